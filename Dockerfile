# ddb-backup-bot container image.
#   docker build -t ddb-backup-bot .     (`make image` also sets the version, revision and source labels)
#   docker run --rm -p 3000:3000 --env-file bot.env -v ddbbot-data:/data ddb-backup-bot
# Settings come from the environment (see README "Settings"); AWS credentials from boto3's standard chain
# (task/instance role, AWS_PROFILE with a mounted ~/.aws, or AWS_* variables).
#
# Reproducible: the base image is pinned to an exact Python and Debian release and to its digest (a tag can be
# re-pushed; a digest cannot), and every Python package (the build backend too) is installed from
# requirements.lock with --require-hashes. Regenerate the lock with `make lock` after changing dependencies in
# pyproject.toml. To move to a newer base, change the tag and its digest together: the digest is the one
# `docker buildx imagetools inspect python:<tag>` prints as "Digest:" (the multi-platform index).

ARG PYTHON_IMAGE=python:3.11.16-slim-bookworm@sha256:528257d48c1da0dcecc2e725d1ae34498d60c965f1241e39cd6a85a8859bdf84

# --- build: the locked dependencies, then the bot itself, into a virtualenv ------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Dependencies first, in their own layer: it is rebuilt only when the lock changes, not on every code change.
# Runtime dependencies and the postgres extra only; never dev or demo (moto, test tools). bot/demo is not in the
# build context (.dockerignore) nor in the project's wheel (pyproject.toml excludes it).
COPY requirements.lock ./
RUN pip install --no-compile --require-hashes --no-deps -r requirements.lock

COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY handlers ./handlers
COPY scheduler ./scheduler
# The project alone (its dependencies are all in place), built with the locked setuptools; then the build
# backend leaves the image and everything is compiled once, with hash-based .pyc files (reproducible).
RUN pip install --no-compile --no-deps --no-build-isolation . \
    && pip uninstall --yes setuptools \
    && python -m compileall -q -f --invalidation-mode unchecked-hash /opt/venv/lib

# --- runtime: the virtualenv, a non-root user and a writable /data ------------------------------------
FROM ${PYTHON_IMAGE}

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=3000 \
    DDBBOT_DATABASE_URL=sqlite:////data/ddb-backup-bot.sqlite3 \
    DDBBOT_LOG_FORMAT=json

RUN groupadd --system --gid 10001 ddbbot \
    && useradd --system --uid 10001 --gid ddbbot --home-dir /app --shell /usr/sbin/nologin ddbbot \
    && mkdir -p /app /data \
    && chown ddbbot:ddbbot /app /data

COPY --from=build /opt/venv /opt/venv
COPY LICENSE /usr/share/doc/ddb-backup-bot/LICENSE

WORKDIR /app
USER ddbbot
# SQLite database (single host). With several replicas set DDBBOT_DATABASE_URL=postgresql://... instead.
VOLUME ["/data"]

# HTTP mode serves /slack/events and /healthz (for a load balancer) on $PORT (3000), the port Slack reaches. Both
# modes serve /metrics, /readyz and /healthz on DDBBOT_METRICS_PORT (9095): keep that port off the internet.
EXPOSE 3000 9095
# Liveness: /healthz answers 200 while the process serves requests. Not /readyz: an unhealthy container is
# restarted, and a database outage would then restart every replica at once, which cures nothing. Readiness
# (/readyz: database, schema, Slack, AWS, Socket Mode connection) is for load balancers and orchestrators'
# readiness probes, on DDBBOT_METRICS_PORT.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; port = os.environ.get('DDBBOT_METRICS_PORT') or '9095'; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % port, timeout=3)"

# The bot stops cleanly on SIGTERM: stops serving, stops background jobs, closes the database.
STOPSIGNAL SIGTERM
CMD ["ddb-backup-bot"]

# OCI labels, last so that a new revision changes only this metadata. VERSION's default is pyproject.toml's
# version (a test keeps them equal); `make image` passes the git revision and the repository's URL.
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=
LABEL org.opencontainers.image.title="ddb-backup-bot" \
      org.opencontainers.image.description="A Slack bot that makes DynamoDB backups a conversation: PITR, native exports, cost, approved restores, schedules." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"
