#!/usr/bin/env bash
# Runs a command with the staging lab up. If the lab was not up, it is brought up first and
# always brought down afterwards (also on failure or Ctrl-C); a lab that was already up is
# left as it was, so a developer can keep one running between test runs.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lab="$here/lab/lab"
started=0
if ! "$lab" status >/dev/null 2>&1; then
  started=1
  trap '"$lab" down' EXIT
  trap 'exit 130' INT TERM
  "$lab" up || { echo "with-lab: the lab did not come up" >&2; exit 1; }
fi
"$@"
rc=$?
exit $rc
