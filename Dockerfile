# Plateau in a container: the steps of `make run` (install, migrate, ingest seeds/ if the archive is
# empty, serve) from a plain `pip install .`, run as a non-root user, data in the volume /data.
FROM python:3.11-slim AS build
WORKDIR /src
# what the package is built from: the code, and the folders it carries (setup.py, MANIFEST.in)
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY app ./app
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/venv/bin/pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 plateau \
 && mkdir -p /data && chown plateau:plateau /data
# the installed package only (templates, static files and migrations inside it), no source tree
COPY --from=build /opt/venv /opt/venv
# `make run` fills an empty archive with the seeds
COPY seeds /srv/plateau/seeds
WORKDIR /srv/plateau
ENV PATH=/opt/venv/bin:$PATH \
    PLATEAU_DATA_DIR=/data \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
USER plateau
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["sh", "-c", "plateau ingest --if-empty /srv/plateau/seeds && exec plateau serve --host 0.0.0.0 --port 8000"]
