#!/bin/bash
# Self-check of a RUNNING staging lab (bring it up first: test/lab/lab up).
# Exits non-zero when any check fails. `--quick` skips the disruptive checks (host key rotation,
# poweroff/start, systemctl start/stop), which leave the lab as they found it but take ~10 s.
set -uo pipefail

LAB_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
LAB=$LAB_DIR/lab
LAB_STATE=${LAB_STATE:-$LAB_DIR/.state}
QUICK=0; [ "${1:-}" = --quick ] && QUICK=1

fails=0; passes=0
pass() { passes=$((passes + 1)); printf 'ok   %s\n' "$*"; }
fail() { fails=$((fails + 1)); printf 'FAIL %s\n' "$*"; }
# check DESCRIPTION CMD...: passes when CMD exits 0
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then pass "$d"; else fail "$d"; fi; }
# refute DESCRIPTION CMD...: passes when CMD exits non-zero
refute() { local d=$1; shift; if "$@" >/dev/null 2>&1; then fail "$d"; else pass "$d"; fi; }
lx() { "$LAB" exec "$@"; }

[ -s "$LAB_STATE/hosts" ] || { echo "no $LAB_STATE/hosts: is the lab up? ($LAB up)"; exit 1; }
mapfile -t NAMES < <(awk '{print $1}' "$LAB_STATE/hosts")
declare -A IP
while read -r name ip; do IP[$name]=$ip; done < "$LAB_STATE/hosts"
[ ${#NAMES[@]} -ge 2 ] || { echo "need at least 2 lab hosts"; exit 1; }

# ---- client files ------------------------------------------------------------------------------
for h in "${NAMES[@]}"; do
  # every key type for both the name and the IP, so whichever a client dials is verified
  n=$(grep -c "^$h,${IP[$h]} " "$LAB_STATE/known_hosts")
  if [ "$n" -ge 3 ]; then pass "$h: known_hosts has $n keys for name and IP"; else fail "$h: known_hosts has $n keys"; fi
done
refute "nothing in $LAB_DIR disables host key checking" \
  grep -rIiE 'StrictHostKeyChecking[= ]+(no|off)|UserKnownHostsFile[= ]+/dev/null' "$LAB_DIR" --exclude-dir=.state

# ---- every host: identity, systemd, users, files, binaries, network -----------------------------
declare -A MID
all=("${NAMES[@]}")
for i in "${!all[@]}"; do
  h=${all[$i]}; next=${all[$(( (i + 1) % ${#all[@]} ))]}
  out=$(lx "$h" 'hostname; cat /etc/machine-id; systemctl is-system-running' 2>&1)
  if [ $? -le 1 ]; then pass "$h: strict ssh as root"; else fail "$h: strict ssh as root: $out"; continue; fi
  mapfile -t f <<< "$out"
  [ "${f[0]}" = "$h" ] && pass "$h: hostname" || fail "$h: hostname is '${f[0]}'"
  MID[${f[1]}]=$h
  case ${f[2]} in
    running) pass "$h: systemd running" ;;
    degraded) pass "$h: systemd degraded (tolerated): $(lx "$h" 'systemctl --failed --plain --no-legend' | tr '\n' ' ')" ;;
    *) fail "$h: systemd state '${f[2]}'" ;;
  esac

  check  "$h: root has Debian's stock .bashrc/.profile (no pyenv cost)" \
    lx "$h" 'cmp -s /root/.bashrc /usr/share/base-files/dot.bashrc && cmp -s /root/.profile /usr/share/base-files/dot.profile && ! test -e /root/.pyenv'
  check  "$h: deploy logs in with the lab key" lx "deploy@$h" 'test "$(id -un)" = deploy && test "$HOME" = /home/deploy'
  refute "$h: deploy cannot sudo without a password" lx "deploy@$h" 'sudo -n true'
  check  "$h: deploy sudo with the password works" \
    lx "deploy@$h" 'echo deploy-lab-pw | sudo -S -k -p "" id -u | grep -qx 0'
  refute "$h: deploy sudo with a wrong password fails" lx "deploy@$h" 'echo wrong | sudo -S -k -p "" true'
  check  "$h: ops has passwordless sudo" lx "ops@$h" 'sudo -n id -u | grep -qx 0'

  check  "$h: stack binaries present" lx "$h" \
    'for b in etcd etcdctl patroni patronictl haproxy nginx psql /usr/lib/postgresql/15/bin/postgres rsync setfacl curl nft; do command -v $b >/dev/null || { echo missing $b; exit 1; }; done; python3 -c "import psycopg2, etcd"'
  check  "$h: root can manage its own firewall and addresses (nft, CAP_NET_ADMIN)" lx "$h" 'nft list ruleset >/dev/null'
  check  "$h: none of the stack services runs after boot" lx "$h" \
    '! systemctl is-active -q etcd patroni haproxy nginx postgresql'

  check  "$h: reaches $next (${IP[$next]}) on tcp/22" lx "$h" "timeout 3 bash -c '</dev/tcp/${IP[$next]}/22'"
  check  "$h: reaches $next by name" lx "$h" "getent hosts $next | grep -q '^${IP[$next]} '"
  refute "$h: has no default route" lx "$h" 'ip route show default | grep -q .'
  refute "$h: cannot reach beyond 198.18.0.0/24 (1.1.1.1:80)" lx "$h" "timeout 3 bash -c '</dev/tcp/1.1.1.1/80'"
done
[ ${#MID[@]} -eq ${#NAMES[@]} ] && pass "machine-ids are unique" || fail "machine-ids are not unique"

# ---- the machine itself runs none of the stack (the lab hosts' processes are in other pid namespaces)
mine=$(readlink /proc/self/ns/pid); leaked=()
while read -r pid comm; do
  case $comm in postgres|etcd|patroni|haproxy|nginx)
    [ "$(readlink "/proc/$pid/ns/pid" 2>/dev/null)" = "$mine" ] && leaked+=("$comm:$pid") ;;
  esac
done < <(ps -eo pid=,comm=)
[ ${#leaked[@]} -eq 0 ] && pass "no stack service runs on the machine itself" || fail "running on the machine: ${leaked[*]}"

# ---- disruptive checks, each undone ------------------------------------------------------------
if [ $QUICK = 0 ]; then
  h=${NAMES[-1]}; ip=${IP[$h]}

  check "$h: systemctl start nginx" lx "$h" 'systemctl start nginx && systemctl is-active -q nginx'
  check "$h: nginx answers the machine over the bridge" curl -sf -m 3 -o /dev/null "http://$ip/"
  check "$h: systemctl stop nginx" lx "$h" 'systemctl stop nginx && ! systemctl is-active -q nginx'

  "$LAB" regen-hostkey "$h" >/dev/null 2>&1
  err=$(lx "$h" true 2>&1); rc=$?
  if [ $rc = 255 ] && grep -q 'REMOTE HOST IDENTIFICATION HAS CHANGED' <<< "$err"; then
    pass "$h: after regen-hostkey strict ssh refuses the changed key"
  else
    fail "$h: after regen-hostkey ssh gave rc=$rc"
  fi
  "$LAB" trust "$h" >/dev/null 2>&1
  check "$h: trust restores ssh" lx "$h" true

  "$LAB" poweroff "$h" >/dev/null 2>&1
  err=$(lx "$h" true 2>&1); rc=$?
  [ $rc = 255 ] && pass "$h: powered off host is unreachable ($(tail -n1 <<< "$err"))" || fail "$h: powered off but ssh rc=$rc"
  check "$h: start boots it again" "$LAB" start "$h"
  check "$h: back up with its old identity" lx "$h" "test \"\$(hostname)\" = $h && systemctl is-system-running --wait >/dev/null; s=\$(systemctl is-system-running); test \$s = running -o \$s = degraded"
fi

echo "selftest: $passes passed, $fails failed"
[ $fails -eq 0 ]
