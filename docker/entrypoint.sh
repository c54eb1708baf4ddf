#!/usr/bin/env bash
# Container entrypoint; also runs on a host from a checkout (CI runs `migrate` mode against a local PostgreSQL).
#
#   web      wait for the databases, migrate all three, seed permissions, then exec gunicorn
#   migrate  wait for the databases, migrate all three, seed permissions, exit
#   worker   wait for the databases, then exec a Celery worker
#   beat     wait for the databases, then exec Celery beat
#   *        exec the given command unchanged (no waiting), e.g. `bash` or `python manage.py shell`
#
# Environment:
#   PYTHON                  interpreter to use (default: python on PATH; on a host, e.g. .venv/bin/python)
#   DJANGO_SETTINGS_MODULE  default config.settings.prod
#   DB_WAIT_SECONDS         total time to wait for all databases to accept connections (default 60)
#   PORT, GUNICORN_WORKERS, GUNICORN_TIMEOUT, FORWARDED_ALLOW_IPS   gunicorn (web); its request
#                           limits and hooks are in gunicorn.conf.py at the repository root; further
#                           gunicorn options can go in GUNICORN_CMD_ARGS, which gunicorn reads itself
#   CELERY_CONCURRENCY, CELERY_LOG_LEVEL                            Celery (worker, beat)
#
# Static files are collected when the image is built, not here.
set -euo pipefail

PYTHON="${PYTHON:-python}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.prod}"
DB_WAIT_SECONDS="${DB_WAIT_SECONDS:-60}"

# Run from the repository root (the directory above this script): /app in the image.
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() {
    echo "entrypoint: $*" >&2
}

wait_for_databases() {
    if ! [[ "$DB_WAIT_SECONDS" =~ ^[0-9]+$ ]]; then
        log "DB_WAIT_SECONDS must be a whole number of seconds"
        exit 64
    fi
    DB_WAIT_SECONDS="$DB_WAIT_SECONDS" "$PYTHON" - <<'PY'
import os
import sys
import time

import django

django.setup()

from django.conf import settings
from django.db import connections

deadline = time.monotonic() + int(os.environ["DB_WAIT_SECONDS"])
for alias in settings.DATABASES:
    print(f"entrypoint: waiting for database {alias!r}", file=sys.stderr, flush=True)
    while True:
        try:
            connections[alias].ensure_connection()
        except Exception as exc:
            # Only the exception class: connection errors can carry hosts and user names.
            if time.monotonic() >= deadline:
                print(
                    f"entrypoint: database {alias!r} not reachable ({exc.__class__.__name__}); giving up",
                    file=sys.stderr,
                    flush=True,
                )
                sys.exit(1)
            time.sleep(1)
        else:
            connections[alias].close()
            print(f"entrypoint: database {alias!r} is up", file=sys.stderr, flush=True)
            break
PY
}

migrate_all() {
    log "migrating databases: default, analytics, logs"
    "$PYTHON" manage.py migrate --noinput
    "$PYTHON" manage.py migrate --noinput --database=analytics
    "$PYTHON" manage.py migrate --noinput --database=logs
    log "seeding system roles"
    "$PYTHON" manage.py seed_permissions
}

mode="${1:-web}"
case "$mode" in
    web)
        wait_for_databases
        migrate_all
        log "starting gunicorn on 0.0.0.0:${PORT:-8000}"
        exec "$PYTHON" -m gunicorn config.wsgi:application \
            --config gunicorn.conf.py \
            --bind "0.0.0.0:${PORT:-8000}" \
            --workers "${GUNICORN_WORKERS:-3}" \
            --timeout "${GUNICORN_TIMEOUT:-30}" \
            --graceful-timeout "${GUNICORN_GRACEFUL_TIMEOUT:-30}" \
            --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1,::1}" \
            --access-logfile - \
            --error-logfile -
        ;;
    migrate)
        wait_for_databases
        migrate_all
        log "migrations done"
        exit 0
        ;;
    worker)
        wait_for_databases
        exec "$PYTHON" -m celery -A config worker \
            --loglevel "${CELERY_LOG_LEVEL:-info}" \
            --concurrency "${CELERY_CONCURRENCY:-2}"
        ;;
    beat)
        wait_for_databases
        exec "$PYTHON" -m celery -A config beat \
            --loglevel "${CELERY_LOG_LEVEL:-info}" \
            --schedule /tmp/celerybeat-schedule
        ;;
    *)
        exec "$@"
        ;;
esac
