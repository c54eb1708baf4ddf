# syntax=docker/dockerfile:1

# --- build: resolve and install the locked runtime dependencies into a venv -----------------------------
FROM python:3.11-slim AS build

# Every locked dependency ships a manylinux wheel (psycopg-binary, argon2-cffi-bindings, cffi,
# cryptography), so no compiler is installed by default. Should one ever need building, pass e.g.
#   --build-arg BUILD_DEPS="build-essential libpq-dev"
# They stay in this stage and never reach the final image.
ARG BUILD_DEPS=""
RUN if [ -n "$BUILD_DEPS" ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends $BUILD_DEPS \
        && rm -rf /var/lib/apt/lists/*; \
    fi

ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements/prod.txt /tmp/requirements/prod.txt
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements/prod.txt


# --- runtime --------------------------------------------------------------------------------------------
FROM python:3.11-slim AS runtime

ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.prod \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/app/media \
    PORT=8000

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-log-init --create-home --home-dir /home/app \
        --shell /usr/sbin/nologin app

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
# Owned by root and read-only for `app`: the process writes nothing under /app but the media
# directory below (beat keeps its schedule in /tmp).
COPY . /app
# The one writable place: uploaded product images (a volume in docker-compose.yml; S3 when
# AWS_STORAGE_BUCKET_NAME is set).
RUN chmod 0755 /app/docker/entrypoint.sh && install -d -o app -g app /app/media

# Collect static files into the image. Prod settings insist on these variables but connect to nothing
# at import time; the values below are throwaway placeholders that exist only for this one command
# and are not stored in the image (nothing listens on port 1).
RUN SECRET_KEY=build-only-not-a-secret \
    ALLOWED_HOSTS=localhost \
    DATABASE_URL=postgres://build@127.0.0.1:1/build \
    ANALYTICS_DATABASE_URL=postgres://build@127.0.0.1:1/build_analytics \
    LOGS_DATABASE_URL=postgres://build@127.0.0.1:1/build_logs \
    REDIS_URL=redis://127.0.0.1:1/0 \
    CELERY_BROKER_URL=redis://127.0.0.1:1/1 \
    python manage.py collectstatic --noinput

USER app

EXPOSE 8000

# Liveness of the web process (worker and beat override this in docker-compose.yml). Django checks the
# Host header, so the probe presents the first concrete ALLOWED_HOSTS entry rather than 127.0.0.1;
# /health/ is exempt from the HTTPS redirect.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; host = next((h.strip().lstrip('.') for h in os.environ.get('ALLOWED_HOSTS', '').split(',') if h.strip() not in ('', '*')), 'localhost'); urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/health/', headers={'Host': host}), timeout=4)"]

ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
