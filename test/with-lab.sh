#!/usr/bin/env bash
# Runs a command with the staging lab up. `lab up` is idempotent (a running lab is only
# verified), so it always runs; if no lab host was running before, the lab is brought down
# again afterwards (also on failure or Ctrl-C). A lab that was already up is left as it was,
# so a developer can keep one running between test runs.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lab="$here/lab/lab"
if "$lab" status 2>/dev/null | grep -q ' up '; then
  echo "with-lab: using the lab that is already up (left up afterwards)"
else
  trap '"$lab" down' EXIT
  trap 'exit 130' INT TERM
fi
"$lab" up || { echo "with-lab: the lab did not come up" >&2; exit 1; }
"$@"
