#!/usr/bin/env bash
# Creates the analytics and logs databases next to $POSTGRES_DB, owned by $POSTGRES_USER.
# Mounted into /docker-entrypoint-initdb.d of the official postgres image, which runs it once, on an
# empty data directory; it is idempotent anyway, so running it again is harmless.
set -euo pipefail

: "${POSTGRES_USER:?POSTGRES_USER must be set}"
ANALYTICS_DB="${ANALYTICS_DB:-backend_analytics}"
LOGS_DB="${LOGS_DB:-backend_logs}"

for db in "$ANALYTICS_DB" "$LOGS_DB"; do
    echo "init-databases: ensuring database ${db}"
    # psql variables (:'db') are quoted by psql and format(%I) quotes identifiers, so any name is safe.
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" \
        -v db="$db" -v owner="$POSTGRES_USER" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')
\gexec
SQL
done
