# Plateau in a container: same install steps as the Makefile, data in a volume, run as a non-root user.
FROM python:3.11-slim AS build
WORKDIR /srv/plateau
COPY pyproject.toml README.md ./
COPY app ./app
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/venv/bin/pip install --no-cache-dir -e .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 plateau \
 && mkdir -p /data && chown plateau:plateau /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv/plateau
COPY --from=build /srv/plateau ./
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY seeds ./seeds
ENV PATH=/opt/venv/bin:$PATH \
    PLATEAU_DATA_DIR=/data \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
USER plateau
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
ENTRYPOINT ["plateau"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
