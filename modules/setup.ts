/**
 * setup: the facts `gather_facts` collects, in ONE remote command. Small files are read with the
 * shell's own `read` and uname/id/date are asked once each: the script starts ~11 programs on
 * the host instead of ~30 (each a fork and an exec). Its documentation is the defineModule fields below (`tsplay doc setup`).
 */

import { defineModule, ModuleFailure, lastLines } from '../runner/module-api';

export interface SetupArgs {
  filter?: string | string[];
  gather_subset?: string | string[];
  gather_timeout?: number;
}

const MARK = '@@tsplay-facts@@';

/** One remote command. Sections are "MARK name" lines; the last one is "MARK end". */
export const FACTS_SCRIPT = `
s() { printf '\\n${MARK} %s\\n' "$1"; }
c() { [ -r "$1" ] || return 1; while IFS= read -r l || [ -n "$l" ]; do printf '%s\\n' "$l"; done < "$1"; }
s os-release; c /etc/os-release || c /usr/lib/os-release
s debian_version; c /etc/debian_version
s hostname; c /proc/sys/kernel/hostname || hostname 2>/dev/null
s fqdn; hostname -f 2>/dev/null
s uname; c /proc/sys/kernel/ostype || uname -s; c /proc/sys/kernel/osrelease || uname -r; uname -m; c /proc/sys/kernel/hostname || uname -n; c /proc/sys/kernel/version || uname -v
s nproc; nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null
s sockets; grep '^physical id' /proc/cpuinfo 2>/dev/null | { seen=' '; n=0; while IFS= read -r l; do case $seen in *" \${l##*:} "*) ;; *) seen="$seen\${l##*:} "; n=$((n + 1)) ;; esac; done; echo $n; }
s meminfo; grep -E '^(MemTotal|MemFree|SwapTotal):' /proc/meminfo 2>/dev/null
s machine_id; c /etc/machine-id
s systemd; [ -d /run/systemd/system ] && echo yes
s init; c /proc/1/comm || ps -p 1 -o comm= 2>/dev/null
s pkg; for m in apt-get dnf yum zypper apk pacman; do command -v $m >/dev/null 2>&1 && echo $m; done
s route; ip -4 route get 1.0.0.0 2>/dev/null || ip -4 route show default 2>/dev/null
s route6; ip -6 route get 2001:db8::1 2>/dev/null
s addr; ip -o addr show 2>/dev/null
s hostname_i; command -v ip >/dev/null 2>&1 || hostname -I 2>/dev/null
s interfaces; for i in /sys/class/net/*; do [ -e "$i" ] || continue; a=; m=; o=; t=; b=-; read -r a 2>/dev/null < "$i/address"; read -r m 2>/dev/null < "$i/mtu"; read -r o 2>/dev/null < "$i/operstate"; read -r t 2>/dev/null < "$i/type"; [ -d "$i/bridge" ] && b=bridge; printf '%s %s %s %s %s %s\\n' "\${i##*/}" "\${a:--}" "\${m:--}" "\${o:--}" "\${t:--}" "$b"; done
s user; i=$(id 2>/dev/null); u=\${i#uid=}; u=\${u%%[!0-9]*}; g=\${i#*gid=}; g=\${g%%[!0-9]*}; case $i in uid=*'('*) n=\${i#*'('}; n=\${n%%')'*} ;; *) n=$u ;; esac; printf '%s\\n%s\\n%s\\n%s\\n' "$n" "$u" "$g" "$HOME"
s date; date -u '+%s%n%Y-%m-%dT%H:%M:%SZ'; date '+%Y-%m-%d%n%H:%M:%S%n%Z%n%z'
s python3; command -v python3 2>/dev/null
s virt; systemd-detect-virt 2>/dev/null
s end
`;

/** os-release ID -> Ansible's distribution name. */
const DISTRIBUTION: Record<string, string> = {
  debian: 'Debian',
  ubuntu: 'Ubuntu',
  linuxmint: 'Linux Mint',
  kali: 'Kali',
  raspbian: 'Debian',
  devuan: 'Devuan',
  pop: 'Pop!_OS',
  rhel: 'RedHat',
  centos: 'CentOS',
  rocky: 'Rocky',
  almalinux: 'AlmaLinux',
  fedora: 'Fedora',
  ol: 'OracleLinux',
  amzn: 'Amazon',
  scientific: 'Scientific',
  cloudlinux: 'CloudLinux',
  sles: 'SLES',
  sles_sap: 'SLES_SAP',
  'opensuse-leap': 'openSUSE Leap',
  'opensuse-tumbleweed': 'openSUSE Tumbleweed',
  alpine: 'Alpine',
  arch: 'Archlinux',
};

const FAMILY: Record<string, string> = {
  Debian: 'Debian',
  Ubuntu: 'Debian',
  'Linux Mint': 'Debian',
  Kali: 'Debian',
  Devuan: 'Debian',
  'Pop!_OS': 'Debian',
  RedHat: 'RedHat',
  CentOS: 'RedHat',
  Rocky: 'RedHat',
  AlmaLinux: 'RedHat',
  Fedora: 'RedHat',
  OracleLinux: 'RedHat',
  Amazon: 'RedHat',
  Scientific: 'RedHat',
  CloudLinux: 'RedHat',
  SLES: 'Suse',
  SLES_SAP: 'Suse',
  'openSUSE Leap': 'Suse',
  'openSUSE Tumbleweed': 'Suse',
  Alpine: 'Alpine',
  Archlinux: 'Archlinux',
};

const PKG: Record<string, string> = { 'apt-get': 'apt', dnf: 'dnf', yum: 'yum', zypper: 'zypper', apk: 'apk', pacman: 'pacman' };

/** KEY=value lines of os-release, with its shell-style quoting removed. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2];
    if (/^".*"$/.test(v)) v = v.slice(1, -1).replace(/\\(["$`\\])/g, '$1');
    else if (/^'.*'$/.test(v)) v = v.slice(1, -1);
    out[m[1]] = v;
  }
  return out;
}

/** distribution, its version, major version, release and os_family from os-release (+ /etc/debian_version). */
export function distributionFacts(osr: Record<string, string>, debianVersion: string): Record<string, string> {
  const id = (osr.ID ?? '').toLowerCase();
  const distribution = DISTRIBUTION[id] ?? osr.NAME ?? (id || 'Unknown');
  let version = osr.VERSION_ID ?? '';
  // Debian's os-release says "12"; Ansible reports the point release from /etc/debian_version
  if (distribution === 'Debian' && /^\d+(\.\d+)*$/.test(debianVersion.trim())) version = debianVersion.trim();
  const like = (osr.ID_LIKE ?? '').toLowerCase().split(/\s+/);
  const family =
    FAMILY[distribution] ??
    (like.includes('debian') || like.includes('ubuntu')
      ? 'Debian'
      : like.some((l) => ['rhel', 'fedora', 'centos'].includes(l))
        ? 'RedHat'
        : like.some((l) => l.includes('suse'))
          ? 'Suse'
          : distribution);
  const release = osr.VERSION_CODENAME || osr.UBUNTU_CODENAME || /\(([^)]+)\)/.exec(osr.VERSION ?? '')?.[1] || '';
  return {
    distribution,
    distribution_version: version,
    distribution_major_version: version.split('.')[0] ?? '',
    distribution_release: release,
    os_family: family,
  };
}

/** Split the script's output into its labelled sections. */
export function splitSections(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = stdout.split(new RegExp(`\\n?${MARK} ([a-z0-9_-]+)\\n`));
  // parts: [before, name1, body1, name2, body2, ...]
  for (let i = 1; i + 1 < parts.length; i += 2) out.set(parts[i], parts[i + 1]);
  if (parts.length % 2 === 0) out.set(parts[parts.length - 1], '');
  return out;
}

function lines(s: string | undefined): string[] {
  return (s ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
}

function meminfo(text: string | undefined, key: string): number | undefined {
  const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text ?? '');
  return m ? Math.floor(Number(m[1]) / 1024) : undefined;
}

/** The facts (without the ansible_ prefix) from the script's output; throws when it is not the script's output. */
export function parseFacts(stdout: string): Record<string, unknown> {
  const sec = splitSections(stdout);
  if (!sec.has('end') || !sec.has('uname')) throw new ModuleFailure('the fact script did not finish (no end marker)');
  const f: Record<string, unknown> = {};

  Object.assign(f, distributionFacts(parseOsRelease(sec.get('os-release') ?? ''), sec.get('debian_version') ?? ''));

  const [system, kernel, machine, nodename, kernelVersion] = (sec.get('uname') ?? '').split('\n');
  const hostname = lines(sec.get('hostname'))[0] ?? nodename ?? '';
  f.system = system ?? 'Linux';
  f.kernel = kernel ?? '';
  f.kernel_version = kernelVersion ?? '';
  f.architecture = machine ?? '';
  f.machine = machine ?? '';
  f.nodename = nodename ?? hostname;
  f.hostname = hostname.split('.')[0];
  f.fqdn = lines(sec.get('fqdn'))[0] || hostname;
  f.domain = (f.fqdn as string).includes('.') ? (f.fqdn as string).slice((f.fqdn as string).indexOf('.') + 1) : '';
  f.machine_id = lines(sec.get('machine_id'))[0] ?? '';

  const vcpus = Number(lines(sec.get('nproc'))[0]);
  f.processor_vcpus = Number.isFinite(vcpus) && vcpus > 0 ? vcpus : 1;
  const sockets = Number(lines(sec.get('sockets'))[0]);
  // VMs and containers often print no "physical id": count them as one socket
  f.processor_count = Number.isFinite(sockets) && sockets > 0 ? sockets : 1;

  const mem = sec.get('meminfo');
  f.memtotal_mb = meminfo(mem, 'MemTotal') ?? 0;
  f.memfree_mb = meminfo(mem, 'MemFree') ?? 0;
  f.swaptotal_mb = meminfo(mem, 'SwapTotal') ?? 0;

  const init = lines(sec.get('init'))[0] ?? '';
  f.service_mgr =
    lines(sec.get('systemd'))[0] === 'yes' || init === 'systemd'
      ? 'systemd'
      : init === 'init'
        ? 'sysvinit'
        : init.replace(/-init$/, '') || 'unknown';

  const pkg = lines(sec.get('pkg'))[0];
  f.pkg_mgr = pkg ? PKG[pkg] : 'unknown';

  const addrs: string[] = [];
  for (const l of lines(sec.get('addr'))) {
    const m = /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\/(\d+)/.exec(l);
    if (m && !m[2].startsWith('127.')) addrs.push(m[2]);
  }
  if (addrs.length === 0) for (const a of (sec.get('hostname_i') ?? '').split(/\s+/)) if (/^\d+\.\d+\.\d+\.\d+$/.test(a) && !a.startsWith('127.')) addrs.push(a);
  f.all_ipv4_addresses = [...new Set(addrs)];

  const route = sec.get('route') ?? '';
  const dev = /\bdev (\S+)/.exec(route)?.[1];
  const src = /\bsrc (\S+)/.exec(route)?.[1];
  const via = /\bvia (\S+)/.exec(route)?.[1];
  const def: Record<string, unknown> = {};
  if (dev) {
    def.interface = dev;
    let address = src;
    let prefix: number | undefined;
    for (const l of lines(sec.get('addr'))) {
      const m = /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\/(\d+)/.exec(l);
      if (m && m[1] === dev && (!address || m[2] === address)) {
        address = address ?? m[2];
        prefix = Number(m[3]);
        break;
      }
    }
    if (address) def.address = address;
    if (via) def.gateway = via;
    if (prefix !== undefined) def.prefix = prefix;
  } else if (f.all_ipv4_addresses && addrs.length) {
    def.address = addrs[0];
  }
  const ifaces = interfaceFacts(sec.get('interfaces'), sec.get('addr'));
  f.interfaces = Object.keys(ifaces);
  for (const [n, i] of Object.entries(ifaces)) f[n.replace(/[^A-Za-z0-9_]/g, '_')] = i;
  f.default_ipv4 = defaultRoute(def, ifaces, 'ipv4');
  const dev6 = /\bdev (\S+)/.exec(sec.get('route6') ?? '')?.[1];
  const src6 = /\bsrc (\S+)/.exec(sec.get('route6') ?? '')?.[1];
  const via6 = /\bvia (\S+)/.exec(sec.get('route6') ?? '')?.[1];
  f.default_ipv6 = dev6 ? defaultRoute({ interface: dev6, ...(src6 ? { address: src6 } : {}), ...(via6 ? { gateway: via6 } : {}) }, ifaces, 'ipv6') : {};
  f.all_ipv6_addresses = Object.values(ifaces).flatMap((i) => ((i.ipv6 as Array<{ address: string }> | undefined) ?? []).map((a) => a.address)).filter((a) => a !== '::1');

  const [userId, uid, gid, home] = (sec.get('user') ?? '').split('\n');
  f.user_id = userId ?? '';
  f.user_uid = Number(uid);
  f.user_gid = Number(gid);
  f.user_dir = home ?? '';

  const [epoch, iso, date, time, tz, tzOffset] = (sec.get('date') ?? '').split('\n');
  f.date_time = { epoch: epoch ?? '', iso8601: iso ?? '', date: date ?? '', time: time ?? '', tz: tz ?? '', tz_offset: tzOffset ?? '' };

  const py = lines(sec.get('python3'))[0];
  f.python = { has_python3: Boolean(py), executable: py ?? null };
  f.virtualization_type = lines(sec.get('virt'))[0] ?? 'unknown';
  return f;
}

/** ARPHRD numbers of /sys/class/net/X/type -> Ansible's interface type. */
const LINK_TYPE: Record<string, string> = { '1': 'ether', '772': 'loopback', '776': 'tunnel', '65534': 'unknown', '32': 'infiniband' };

/** a.b.c.d of a prefix length, and of an address masked by it */
function v4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}
function v4num(a: string): number {
  return a.split('.').reduce((acc, x) => ((acc << 8) | Number(x)) >>> 0, 0);
}

/**
 * ansible_<iface> as Ansible's: device, active, type, macaddress, mtu, promisc, ipv4 {address,
 * netmask, network, broadcast, prefix} (the first address; the others in ipv4_secondaries),
 * ipv6 [{address, prefix, scope}]. From /sys/class/net lines ("name mac mtu operstate type
 * bridge") and `ip -o addr` lines (both families: one program less on the host).
 */
export function interfaceFacts(sys: string | undefined, addr: string | undefined): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const l of lines(sys)) {
    const [name, mac, mtu, oper, type, bridge] = l.split(/\s+/);
    if (!name) continue;
    const i: Record<string, unknown> = { device: name, active: oper === 'up' || oper === 'unknown', type: bridge === 'bridge' ? 'bridge' : (LINK_TYPE[type] ?? 'unknown') };
    if (mac && mac !== '-' && mac !== '00:00:00:00:00:00') i.macaddress = mac;
    if (mtu && /^\d+$/.test(mtu)) i.mtu = Number(mtu);
    // loopback is down in operstate words ("unknown") but up: Ansible reports it active
    if (name === 'lo') i.active = true;
    out[name] = i;
  }
  for (const l of lines(addr)) {
    const m = /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\/(\d+)(?:\s+brd\s+([\d.]+))?/.exec(l);
    if (!m || !out[m[1]]) continue;
    const prefix = Number(m[3]);
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    const a: Record<string, unknown> = { address: m[2], broadcast: m[4] ?? '', netmask: v4(mask), network: v4((v4num(m[2]) & mask) >>> 0), prefix: String(prefix) };
    if (out[m[1]].ipv4) ((out[m[1]].ipv4_secondaries ??= []) as unknown[]).push(a);
    else out[m[1]].ipv4 = a;
  }
  for (const l of lines(addr)) {
    const m = /^\d+:\s+(\S+)\s+inet6\s+([0-9a-f:]+)\/(\d+)\s+scope\s+(\S+)/i.exec(l);
    if (!m || !out[m[1]]) continue;
    ((out[m[1]].ipv6 ??= []) as unknown[]).push({ address: m[2], prefix: m[3], scope: m[4] });
  }
  return out;
}

/** default_ipv4 / default_ipv6: the route's interface, gateway and address, completed from that interface. */
function defaultRoute(route: Record<string, unknown>, ifaces: Record<string, Record<string, unknown>>, family: 'ipv4' | 'ipv6'): Record<string, unknown> {
  const i = typeof route.interface === 'string' ? ifaces[route.interface] : undefined;
  if (!i) return route;
  const out: Record<string, unknown> = { ...route, alias: route.interface, macaddress: i.macaddress ?? 'unknown', mtu: i.mtu, type: i.type };
  if (family === 'ipv4') {
    const all = [i.ipv4, ...((i.ipv4_secondaries as unknown[]) ?? [])].filter(Boolean) as Array<Record<string, unknown>>;
    const a = all.find((x) => x.address === route.address) ?? all[0];
    if (a) Object.assign(out, { address: a.address, broadcast: a.broadcast, netmask: a.netmask, network: a.network, prefix: a.prefix });
  } else {
    const a = ((i.ipv6 as Array<Record<string, unknown>>) ?? []).find((x) => x.address === route.address || (!route.address && x.scope === 'global'));
    if (a) Object.assign(out, { address: a.address, prefix: a.prefix, scope: a.scope });
  }
  return out;
}

/** fnmatch-style glob (* ? [..]) -> RegExp. */
function glob(pattern: string): RegExp {
  let re = '';
  for (const c of pattern) {
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[' || c === ']') re += c;
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export default defineModule<SetupArgs>({
  name: 'setup',
  description: 'Gather facts about the host (OS, hostname, CPUs, memory, addresses, ...) in one command.',
  notes: [
    'A POSIX sh script prints labelled sections (/etc/os-release, hostname, uname, nproc,',
    '/proc/meminfo, ip route/addr, PID 1, package managers, id, date, python3); the controller',
    'parses them. Every probe tolerates a missing tool, so a minimal host still answers; a script',
    'that fails or prints no end marker fails the task with the host\'s stderr.',
  ].join('\n'),
  returns: [
    'Facts (Ansible\'s names; each is in `ansible_facts.<name>` and also top-level `ansible_<name>`):',
    'hostname, fqdn, nodename, system, kernel, kernel_version, architecture, machine_id,',
    'distribution (Debian, Ubuntu, RedHat, Rocky, AlmaLinux, CentOS, Fedora, ...),',
    'distribution_version, distribution_major_version, distribution_release (codename),',
    'os_family (Debian, RedHat, Suse, Alpine, Archlinux, ...), processor_vcpus, processor_count,',
    'memtotal_mb, memfree_mb, swaptotal_mb, service_mgr (systemd, sysvinit, ...),',
    'pkg_mgr (apt, dnf, yum, zypper, apk, pacman), default_ipv4 / default_ipv6 {address,',
    'interface, alias, gateway, netmask, network, broadcast, prefix, macaddress, mtu, type},',
    'all_ipv4_addresses (without loopback), all_ipv6_addresses, interfaces, and per interface',
    '<iface> {device, active, type, macaddress, mtu, ipv4 {address, netmask, network, broadcast,',
    'prefix}, ipv4_secondaries, ipv6 [{address, prefix, scope}]}, user_id, user_uid, user_gid,',
    'user_dir, date_time {epoch, iso8601, date, time, tz, tz_offset}, python {has_python3,',
    'executable}, virtualization_type (systemd-detect-virt: none, systemd-nspawn, kvm, ...).',
  ].join('\n'),
  schema: {
    type: 'object',
    properties: {
      filter: {
        anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
        description: "Only facts whose name (ansible_...) matches one of these globs, e.g. 'ansible_distribution*'.",
      },
      gather_subset: {
        anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
        description: 'Accepted for Ansible compatibility; all facts are always gathered.',
      },
      gather_timeout: { type: 'integer', minimum: 1, default: 30, description: 'Seconds before the fact probe is abandoned.' },
    },
    additionalProperties: false,
  },
  example: `- setup:
- setup:
    filter: ['ansible_distribution*', 'ansible_default_ipv4']`,
  checkMode: 'Same as a normal run: it only reads.',
  async plan(args, ctx) {
    const r = await ctx.remote.query(FACTS_SCRIPT, { timeoutMs: (args.gather_timeout ?? 30) * 1000 });
    let facts: Record<string, unknown>;
    try {
      if (r.rc !== 0) throw new ModuleFailure(`rc=${r.rc}`);
      facts = parseFacts(r.stdout);
    } catch (e) {
      throw new ModuleFailure(
        `fact gathering failed on ${ctx.host} (${(e as Error).message})${r.stderr.trim() ? `: ${lastLines(r.stderr, 5)}` : ''}`,
        { rc: r.rc, stdout: r.stdout, stderr: r.stderr },
      );
    }
    if (args.filter !== undefined) {
      const pats = (Array.isArray(args.filter) ? args.filter : [args.filter]).map(glob);
      facts = Object.fromEntries(Object.entries(facts).filter(([k]) => pats.some((p) => p.test(`ansible_${k}`) || p.test(k))));
    }
    const out: Record<string, unknown> = { ansible_facts: facts };
    for (const [k, v] of Object.entries(facts)) out[`ansible_${k}`] = v;
    return { changes: [], facts: out, result: { ansible_facts: facts } };
  },
});
