# ddb-backup-bot container image.
#   docker build -t ddb-backup-bot .
#   docker run --rm -p 3000:3000 --env-file bot.env -v ddbbot-data:/data ddb-backup-bot
# Settings come from the environment (see README "Settings"); AWS credentials from boto3's standard chain
# (task/instance role, AWS_PROFILE with a mounted ~/.aws, or AWS_* variables).
#
# Reproducible: the base image is pinned to an exact Python and Debian release, and every Python package
# (the build backend too) is installed from requirements.lock with --require-hashes. Regenerate the lock with
# `make lock` after changing dependencies in pyproject.toml.

ARG PYTHON_IMAGE=python:3.11.16-slim-bookworm

# --- build: the locked dependencies, then the bot itself, into a virtualenv ------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Dependencies first, in their own layer: it is rebuilt only when the lock changes, not on every code change.
# Runtime dependencies and the postgres extra only; never dev or demo (moto, test tools).
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
# Readiness: /readyz answers 200 when the database answers, its schema is current and (Socket Mode) the websocket
# is connected, 503 otherwise (urlopen raises on 503, so the check fails); served on DDBBOT_METRICS_PORT only.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; port = os.environ.get('DDBBOT_METRICS_PORT') or '9095'; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % port, timeout=3)"

# The bot stops cleanly on SIGTERM: stops serving, stops background jobs, closes the database.
STOPSIGNAL SIGTERM
CMD ["ddb-backup-bot"]
