#!/bin/sh
# failover-test.yml's writer: numbered inserts through HAProxy's leader port, one at a time, and
# the id of every insert the database ACKNOWLEDGED (psql exited 0 after the commit) appended to
# DIR/acked with its time. A failed insert goes to DIR/failed (it may or may not have committed:
# only acknowledged ids are promised). Runs until stopped (systemctl stop tsplay-drill-writer).
# usage: drill-writer.sh DIR RUN_ID HOST PORT USER INTERVAL   (password: DIR/pgpass)
set -u
dir=$1 run=$2 host=$3 port=$4 user=$5 interval=$6
case "$run" in *[!0-9]*|'') echo "RUN_ID must be digits" >&2; exit 2 ;; esac
export PGPASSFILE="$dir/pgpass" PGCONNECT_TIMEOUT=2 PGAPPNAME=tsplay-failover-drill
i=0
while :; do
  i=$((i + 1))
  if psql -h "$host" -p "$port" -U "$user" -d postgres -AtXq -v ON_ERROR_STOP=1 \
    -c "insert into tsplay_failover_drill (run, id) values ($run, $i)" >/dev/null 2>>"$dir/errors"; then
    echo "$i $(date +%s.%N)" >> "$dir/acked"
  else
    echo "$i $(date +%s.%N)" >> "$dir/failed"
  fi
  sleep "$interval"
done
