# alias-service container image.
#
#   docker build -t alias-service .
#   docker run -p 8000:8000 -v alias-data:/data -e ADMIN_TOKEN=... alias-service
#
# BASE_IMAGE must provide python3 (>= 3.11) with the venv module. The default is
# the official slim image; scripts/check-container builds on a local Debian
# base instead where no registry is reachable. Both stages use the same base,
# so the interpreter path the venv points at exists in the runtime stage too.
ARG BASE_IMAGE=python:3.12-slim

# ---------------------------------------------------------------- build stage
FROM ${BASE_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/venv/bin:$PATH
WORKDIR /src

# Dependencies first: this layer is rebuilt only when pyproject.toml changes,
# not on every edit of the code. The list is read from [project].dependencies
# so it is never copied by hand.
COPY pyproject.toml ./
RUN python3 -m venv /opt/venv \
    && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --upgrade pip \
    && pip install -r /tmp/requirements.txt

# Then the project itself (a wheel with the migrations and aliases.yaml inside).
COPY . .
RUN pip install --no-deps . \
    && alias-service --help > /dev/null

# -------------------------------------------------------------- runtime stage
FROM ${BASE_IMAGE} AS runtime

# scripts/check-container passes the git remote, when there is one.
ARG VCS_URL=""
LABEL org.opencontainers.image.title="alias-service" \
      org.opencontainers.image.description="A curated table of entities and their aliases that turns free-text mentions into canonical entity IDs." \
      org.opencontainers.image.source="${VCS_URL}" \
      org.opencontainers.image.licenses="MIT"

RUN groupadd --gid 10001 app \
    && useradd --uid 10001 --gid app --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin app \
    && mkdir -p /data \
    && chown app:app /data

COPY --from=build /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////data/alias-service.db \
    INDEX_SNAPSHOT=/data/index.snapshot

# /data holds the SQLite database; mount a volume there to keep it, or point
# DATABASE_URL at PostgreSQL (postgresql+psycopg://...). It also keeps the
# built index (INDEX_SNAPSHOT), so that a restart on the same table reads it
# back in seconds instead of building it.
WORKDIR /data
USER app:app

EXPOSE 8000

# Slim images have no curl: probe with the interpreter the service runs on.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]

ENTRYPOINT ["alias-service"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
