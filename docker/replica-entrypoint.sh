#!/bin/bash
# A streaming replica of service "db": copied once with pg_basebackup -R (standby.signal
# and primary_conninfo written for us), with its own replication slot; then just postgres.
set -euo pipefail
PGDATA=${PGDATA:-/var/lib/postgresql/data}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"
  until gosu postgres pg_basebackup -h db -U replicator -D "$PGDATA" -R -X stream \
        -C -S "${REPLICA_SLOT:-replica1}"; do
    echo "waiting for the primary..."; rm -rf "${PGDATA:?}"/*; sleep 2
  done
fi
exec gosu postgres postgres -c hot_standby=on
