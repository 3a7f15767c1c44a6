#!/usr/bin/env sh
# Creates (first run) and upgrades (every run) the two PostgreSQL databases of
# Starmap's Temporal cluster with temporal-sql-tool and the versioned schemas
# shipped with the server (schema/postgresql/v12/{temporal,visibility}/versioned).
# Re-runnable: an existing database is kept, setup-schema only records version
# 0.0 on an empty one, update-schema applies the versions not applied yet.
# The same settings as deploy/temporal/starmap.yaml:
#   TEMPORAL_DB_HOST TEMPORAL_DB_PORT TEMPORAL_DB_USER TEMPORAL_DB_PASSWORD
#   TEMPORAL_DB_NAME (temporal) TEMPORAL_VISIBILITY_DB_NAME (temporal_visibility)
# and where the tool and the schemas are:
#   TEMPORAL_SQL_TOOL (temporal-sql-tool)  TEMPORAL_SCHEMA_DIR (…/schema/postgresql/v12)
# Used by `npm run cluster` (scripts/cluster.ts) and docker-compose.yml (the
# temporal-schema job, on the temporalio/admin-tools image).
set -eu
: "${TEMPORAL_DB_HOST:?}" "${TEMPORAL_DB_USER:?}" "${TEMPORAL_DB_PASSWORD:?}" "${TEMPORAL_SCHEMA_DIR:?}"
tool=${TEMPORAL_SQL_TOOL:-temporal-sql-tool}
port=${TEMPORAL_DB_PORT:-5432}

sqltool() {
  # the password through the environment (SQL_PASSWORD), not the command line
  SQL_PASSWORD=$TEMPORAL_DB_PASSWORD "$tool" --plugin postgres12 --endpoint "$TEMPORAL_DB_HOST" --port "$port" \
    --user "$TEMPORAL_DB_USER" "$@"
}

setup() {
  db=$1 schema=$2
  out=$(sqltool --database "$db" create-database 2>&1) || {
    case $out in
      *"already exists"*) ;;
      *) echo "$out" >&2; echo "[schema] could not create database $db" >&2; exit 1 ;;
    esac
  }
  sqltool --database "$db" setup-schema --version 0.0 >/dev/null 2>&1 || {
    sqltool --database "$db" setup-schema --version 0.0 >&2; exit 1
  }
  out=$(sqltool --database "$db" update-schema --schema-dir "$TEMPORAL_SCHEMA_DIR/$schema/versioned" 2>&1) || {
    echo "$out" >&2; echo "[schema] update-schema of $db failed" >&2; exit 1
  }
  case $out in
    *"Schema updated from"*) echo "[schema] $db: updated to version $(printf '%s\n' "$out" | grep -o 'Schema updated from [0-9.]* to [0-9.]*' | tail -n 1 | sed 's/.* to //')" >&2 ;;
    *) echo "[schema] $db: already at the latest version" >&2 ;;
  esac
}

setup "${TEMPORAL_DB_NAME:-temporal}" temporal
setup "${TEMPORAL_VISIBILITY_DB_NAME:-temporal_visibility}" visibility
