#!/bin/sh
# failover-test.yml's HTTP prober: one request every INTERVAL s through HAProxy's application
# frontend; appends "time status node" (node: HAProxy's X-App-Node header, - if none) to OUT.
# usage: drill-http-probe.sh URL OUT INTERVAL
set -u
url=$1 out=$2 interval=$3
while :; do
  h=$(curl -s -m 1 -o /dev/null -D - -- "$url" 2>/dev/null | tr -d '\r')
  code=$(printf '%s\n' "$h" | awk 'NR == 1 { print $2 }')
  node=$(printf '%s\n' "$h" | awk -F': *' 'tolower($1) == "x-app-node" { print $2 }')
  echo "$(date +%s.%N) ${code:-000} ${node:--}" >> "$out"
  sleep "$interval"
done
