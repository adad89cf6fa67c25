# Two commands for a new machine: `make run` serves the archive, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint install install-test install-lint browser postgres bench clean

run: install
	$(BIN)/plateau ingest --if-empty seeds
	$(BIN)/plateau serve --host $(HOST) --port $(PORT)

test: install-test browser postgres
	$(BIN)/pytest -q

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
install-lint: $(VENV)/.installed-lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Bytecode compiled once, as a real `pip install .` does: where PYTHONDONTWRITEBYTECODE is set,
# each `plateau` command would otherwise compile the app's modules again (36 ms of every start).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	$(BIN)/python -m compileall -q app
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# mypy reads bench/ too, which uses the test extras (httpx)
$(VENV)/.installed-lint: pyproject.toml $(VENV)/.installed-test
	$(BIN)/pip install -q -e '.[test,lint]'
	touch $@

# The gates CI runs before the tests: lint, format, types, spelling (configured in pyproject.toml).
lint: install-lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/typos .

# Browser tests drive Debian's Chromium through Playwright; no browser is downloaded by a test tool.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests..."; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# PostgreSQL tests run a real server: Debian's postgresql (initdb, pg_ctl), contrib (unaccent, pg_trgm,
# fuzzystrmatch) and the rum index for that server's version; tests/postgres.py starts its own cluster.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		echo "Installing Debian's postgresql for the PostgreSQL tests..."; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql postgresql-contrib >/dev/null; }
	@version=$$(ls /usr/lib/postgresql | sort -n | tail -1); \
	ls /usr/share/postgresql/$$version/extension/rum.control >/dev/null 2>&1 || { \
		echo "Installing postgresql-$$version-rum..."; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql-$$version-rum >/dev/null; }

# Figures, never assertions: ingest beside reindex with peak memory and one-file adds, pages over
# HTTP on the ingested 2,000-episode archive, then search: Whoosh, FTS5 and PostgreSQL (a server of
# its own, started and stopped by bench/run.py) on the same archive and queries. Several minutes on
# 2 cores; `make bench BENCH_SIZES="200 2000 5000"` adds the 5,000-episode run, BENCH_BACKENDS=whoosh
# leaves PostgreSQL out (postgresql: PostgreSQL and FTS5 only).
BENCH_SIZES ?= 200 2000
BENCH_BACKENDS ?= all
bench: install-test postgres
	rm -rf bench/out && mkdir -p bench/out
	$(BIN)/python -m bench.ingest --sizes $(BENCH_SIZES) --keep bench/out > bench/out/ingest.md
	$(BIN)/python -m bench.pages --data bench/out/data-2000 > bench/out/pages.md
	$(BIN)/python -m bench.run --sizes $(BENCH_SIZES) --backend $(BENCH_BACKENDS) > bench/out/search.md
	cat bench/out/ingest.md bench/out/pages.md bench/out/search.md

# HTTP search (bench/servers.py), issue 13: one `plateau serve` on SQLite, then two on one PostgreSQL
# (the archive copied by migrate_to), 16 clients of `/search?q=` each time through wrk; req/s,
# p50/p95/p99, errors and the p95 ratio. On a copy of `make bench`'s 2,000-episode archive (built
# when missing); SERVERS_ARGS="--episodes 200 --seconds 10" is a quick run on a fresh archive.
SERVERS_ARGS ?= --data bench/out/data-2000
.PHONY: bench-servers
bench-servers: install-test wrk postgres
	$(BIN)/python -m bench.servers $(SERVERS_ARGS)

# Load (bench/load.py): Debian's wrk (installed when missing), 32 connections in all against
# `plateau serve --workers 2` for 60 s, while two uploads and two `plateau ingest` loops add episodes;
# req/s, p50/p99 and errors per class of URL, writer throughput. Figures, never assertions. Works on a
# copy of the 2,000-episode archive that `make bench` leaves (built there first when missing, ~3 min);
# LOAD_ARGS="--episodes 200 --seconds 10" is a quick run on a fresh archive.
LOAD_ARGS ?= --data bench/out/data-2000
.PHONY: load wrk
load: install-test wrk
	$(BIN)/python -m bench.load $(LOAD_ARGS)

wrk:
	@command -v wrk >/dev/null 2>&1 || { \
		echo "Installing Debian's wrk for the load test..."; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk >/dev/null; }

clean:
	rm -rf $(VENV) data .pytest_cache test-artifacts

# Mutation testing of search, ingest, name matching and timecodes ([tool.mutmut] in pyproject.toml):
# slow (8,000 mutants, each against the tests that cover its function: days on two cores), so never
# in `make test` or CI. It works in mutants/ (delete it to start afresh); the score is printed, then
# the survivors (`mutmut show NAME` prints one). MUTMUT_ARGS="app.names* app.timecodes*" runs those
# mutants only. `make mutation-sample` scores a seeded random sample instead (bench/mutation.py:
# 250 mutants, about an hour; MUTATION_ARGS="--sample 100 app.search.*" for another).
.PHONY: mutation mutation-sample
mutation: install-test
	$(BIN)/pip install -q -e '.[mutation]'
	$(BIN)/mutmut run $(MUTMUT_ARGS)
	$(BIN)/mutmut export-cicd-stats
	@cat mutants/mutmut-cicd-stats.json
	$(BIN)/mutmut results

MUTATION_ARGS ?= --sample 250 --children 2
mutation-sample: install-test
	$(BIN)/pip install -q -e '.[mutation]'
	$(BIN)/python -m bench.mutation $(MUTATION_ARGS)

# Search quality on the seeds: a seeded sample of quotes searched quoted and unquoted, a table of
# how often the quote's passage, second and line come back (bench/quality.py). Seconds, not minutes;
# QUALITY_ARGS="--seed 2 --misses" draws other quotes and lists the misses.
.PHONY: quality
quality: install
	$(BIN)/python -m bench.quality $(QUALITY_ARGS)
