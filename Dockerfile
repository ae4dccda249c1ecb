# ddb-backup-bot container image.
#   docker build -t ddb-backup-bot .
#   docker run --rm -p 3000:3000 --env-file bot.env -v ddbbot-data:/data ddb-backup-bot
# Settings come from the environment (see README "Settings"); AWS credentials from boto3's standard chain
# (task/instance role, AWS_PROFILE with a mounted ~/.aws, or AWS_* variables).

# --- build: install the bot and its production extras into a virtualenv --------------------------------
FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY scheduler ./scheduler
# Production extras only: PostgreSQL driver for several replicas; never dev or demo (moto, test tools).
RUN pip install --no-cache-dir ".[postgres]"

# --- runtime: the virtualenv, a non-root user and a writable /data ------------------------------------
FROM python:3.11-slim

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=3000 \
    DDBBOT_DATABASE_URL=sqlite:////data/ddb-backup-bot.sqlite3

RUN groupadd --system --gid 10001 ddbbot \
    && useradd --system --uid 10001 --gid ddbbot --home-dir /app --shell /usr/sbin/nologin ddbbot \
    && mkdir -p /app /data \
    && chown ddbbot:ddbbot /app /data

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
USER ddbbot
# SQLite database (single host). With several replicas set DDBBOT_DATABASE_URL=postgresql://... instead.
VOLUME ["/data"]

# HTTP mode serves /slack/events and /healthz on $PORT.
EXPOSE 3000
# /healthz answers 200 when the database answers, 503 otherwise. Socket Mode serves no HTTP, so the check
# passes when SLACK_APP_TOKEN is set (see README "Running").
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, sys, urllib.request; os.environ.get('SLACK_APP_TOKEN') and sys.exit(0); urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=3)"

# The bot stops cleanly on SIGTERM: stops serving, stops background jobs, closes the database.
STOPSIGNAL SIGTERM
CMD ["ddb-backup-bot"]
