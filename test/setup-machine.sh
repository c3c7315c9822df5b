#!/usr/bin/env bash
# Installs the Debian packages the test suite needs on the machine that runs it (as root), and
# nothing when they are all present already. The lab's own packages are installed by
# `test/lab/lab up`; these are what the unit/integration tests call directly:
#   openssh-server  real sshd on loopback for the SSH connection tests (never started as a service)
#   ansible-core    ansible-vault for the vault interoperability tests, ansible-playbook for the benchmark
#   sudo            become tests on the local connection
set -euo pipefail
PKGS=(openssh-server ansible-core sudo)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "test/setup-machine.sh: missing Debian packages ${missing[*]}; run as root (or install them) first" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
# keep services from starting on the machine itself while installing
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e $policy ]; then printf '#!/bin/sh\nexit 101\n' > $policy; chmod +x $policy; created_policy=1; fi
trap '[ $created_policy = 1 ] && rm -f $policy' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
