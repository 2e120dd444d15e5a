#!/bin/bash
# The primary's first start (docker-entrypoint-initdb.d): a role for the replica's pg_basebackup and
# streaming, and the pg_hba.conf line that lets it connect for replication (the image's own
# `host all all all` line does not cover replication connections).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
