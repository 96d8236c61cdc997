#!/usr/bin/env bash
# The real components the tests use, from Debian's packages: a PostgreSQL server (started, with a
# role and a database for the tests) and Chromium for the browser tests (driven by Playwright
# through /usr/bin/chromium; never `playwright install`). Source it: it exports
# EXORESIST_TEST_POSTGRES_URL. Needs root (CI and the development machines run as root).
set -euo pipefail

if ! command -v pg_ctlcluster >/dev/null || ! command -v chromium >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql chromium chromium-driver >/dev/null
fi

PG_VERSION="$(ls /usr/lib/postgresql | sort -V | tail -1)"
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$PG_VERSION main"; then
  pg_createcluster "$PG_VERSION" main >/dev/null
fi
pg_ctlcluster "$PG_VERSION" main start 2>/dev/null || true
for _ in $(seq 1 50); do
  runuser -u postgres -- pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 0.2
done
runuser -u postgres -- psql -q -d postgres -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'exoresist') THEN
    CREATE ROLE exoresist LOGIN PASSWORD 'exoresist' CREATEDB;
  END IF;
END $$;
SQL
if ! runuser -u postgres -- psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'exoresist_test'" | grep -q 1; then
  runuser -u postgres -- createdb -O exoresist exoresist_test
fi
export EXORESIST_TEST_POSTGRES_URL="postgresql://exoresist:exoresist@127.0.0.1:5432/exoresist_test"
echo "PostgreSQL $PG_VERSION at 127.0.0.1:5432 (database exoresist_test); $(chromium --version 2>/dev/null | head -1)"
