# One image for the web app and the jobs:
#   docker build -t customer-segments .
#   docker run -p 127.0.0.1:8050:8050 -e STORE_URL=redis://:PASSWORD@redis:6379/0 customer-segments   # web (gunicorn)
#   docker run ... customer-segments python -m jobs.scheduler                                        # scheduled refreshes
#   docker run ... customer-segments python -m jobs.refresh                                          # one refresh now
# Or all of it with Redis: docker compose up -d (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PORT=8050

WORKDIR /app
RUN groupadd --system app \
    && useradd --system --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

# Dependencies first (cached layer), with the same script `make setup` runs (runtime requirements only).
COPY requirements.txt ./
COPY scripts/install.sh scripts/install.sh
RUN python -m venv /opt/venv && scripts/install.sh /opt/venv/bin/python requirements.txt

COPY analytics/ analytics/
COPY jobs/ jobs/
COPY dashboard/ dashboard/
COPY assets/ assets/
COPY config/ config/
COPY data/ data/
COPY gunicorn.conf.py ./

# The default file store (STORE_URL unset: /app/.store) must be writable by the app user; code is not.
RUN mkdir -p /app/.store && chown app:app /app/.store
USER app

EXPOSE 8050
# Liveness of the web server (no curl in slim images). The job commands override CMD, not this check:
# docker-compose.yml disables it for them.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8050'), timeout=4)"]

# gunicorn.conf.py (working directory): 0.0.0.0:$PORT, $WEB_CONCURRENCY workers x $GUNICORN_THREADS threads.
CMD ["gunicorn", "dashboard.wsgi:server"]
