import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import setup, { distributionFacts, FACTS_SCRIPT, parseFacts, parseOsRelease } from '../../modules/setup';
import { FakeRemote, LocalRemote, runModule, validateArgs } from '../helpers/fake-remote';
import { programShims } from '../helpers/program-shims';

const MARK = '@@tsplay-facts@@';

/** What the fact script prints, assembled from sections as a host would print them. */
function output(s: Record<string, string>): string {
  const order = ['os-release', 'debian_version', 'hostname', 'fqdn', 'uname', 'nproc', 'sockets', 'meminfo', 'machine_id', 'systemd', 'init', 'pkg', 'route', 'route6', 'addr', 'hostname_i', 'interfaces', 'user', 'date', 'python3', 'virt'];
  return order.map((k) => `\n${MARK} ${k}\n${s[k] ?? ''}`).join('') + `\n${MARK} end\n`;
}

const DEBIAN_12 = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
`;

const UBUNTU_2204 = `PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
UBUNTU_CODENAME=jammy
`;

const RHEL_9 = `NAME="Red Hat Enterprise Linux"
VERSION="9.4 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.4"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Red Hat Enterprise Linux 9.4 (Plow)"
ANSI_COLOR="0;31"
CPE_NAME="cpe:/o:redhat:enterprise_linux:9::baseos"
REDHAT_SUPPORT_PRODUCT="Red Hat Enterprise Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="9.4"
`;

const debianHost = output({
  'os-release': DEBIAN_12,
  debian_version: '12.5\n',
  hostname: 'db1\n',
  fqdn: 'db1.example.com\n',
  uname: 'Linux\n6.1.0-18-amd64\nx86_64\ndb1\n#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)\n',
  nproc: '4\n',
  sockets: '1\n',
  meminfo: 'MemTotal:        8135180 kB\nMemFree:         2097152 kB\nSwapTotal:       1048572 kB\n',
  machine_id: '0123456789abcdef0123456789abcdef\n',
  systemd: 'yes\n',
  init: 'systemd\n',
  pkg: 'apt-get\n',
  route: '1.0.0.0 via 10.0.0.1 dev ens18 src 10.0.0.11 uid 0 \n    cache \n',
  addr: '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n2: ens18    inet 10.0.0.11/24 brd 10.0.0.255 scope global ens18\\       valid_lft forever\n3: ens19    inet 192.168.5.3/16 brd 192.168.255.255 scope global ens19\\ valid\n1: lo    inet6 ::1/128 scope host \\       valid_lft forever\n2: ens18    inet6 2001:db8:5::11/64 scope global \\       valid_lft forever\n2: ens18    inet6 fe80::1:2ff:fe03:405/64 scope link \\       valid_lft forever\n',
  route6: '2001:db8::1 from :: via fe80::1 dev ens18 src 2001:db8:5::11 metric 1024 pref medium\n',
  // /sys/class/net: name, address, mtu, operstate, type (ARPHRD), bridge/ present
  interfaces: 'ens18 52:54:00:12:34:56 1500 up 1 -\nens19 52:54:00:ab:cd:ef 9000 down 1 -\nlo 00:00:00:00:00:00 65536 unknown 772 -\n',
  user: 'root\n0\n0\n/root\n',
  date: '1717000000\n2024-05-29T16:26:40Z\n2024-05-29\n18:26:40\nCEST\n+0200\n',
  python3: '/usr/bin/python3\n',
  virt: 'kvm\n',
});

describe('fact parsing (captured outputs)', () => {
  it('Debian 12: every documented fact', () => {
    expect(parseFacts(debianHost)).toEqual({
      distribution: 'Debian',
      distribution_version: '12.5',
      distribution_major_version: '12',
      distribution_release: 'bookworm',
      os_family: 'Debian',
      system: 'Linux',
      kernel: '6.1.0-18-amd64',
      kernel_version: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)',
      architecture: 'x86_64',
      machine: 'x86_64',
      nodename: 'db1',
      hostname: 'db1',
      fqdn: 'db1.example.com',
      domain: 'example.com',
      machine_id: '0123456789abcdef0123456789abcdef',
      processor_vcpus: 4,
      processor_count: 1,
      memtotal_mb: 7944,
      memfree_mb: 2048,
      swaptotal_mb: 1023,
      service_mgr: 'systemd',
      pkg_mgr: 'apt',
      all_ipv4_addresses: ['10.0.0.11', '192.168.5.3'],
      // Ansible's keys, values checked against ansible-core 2.14's setup on a Debian 12 host
      default_ipv4: {
        interface: 'ens18', alias: 'ens18', address: '10.0.0.11', gateway: '10.0.0.1', prefix: '24', netmask: '255.255.255.0',
        network: '10.0.0.0', broadcast: '10.0.0.255', macaddress: '52:54:00:12:34:56', mtu: 1500, type: 'ether',
      },
      default_ipv6: {
        interface: 'ens18', alias: 'ens18', address: '2001:db8:5::11', gateway: 'fe80::1', prefix: '64', scope: 'global',
        macaddress: '52:54:00:12:34:56', mtu: 1500, type: 'ether',
      },
      all_ipv6_addresses: ['2001:db8:5::11', 'fe80::1:2ff:fe03:405'],
      interfaces: ['ens18', 'ens19', 'lo'],
      ens18: {
        device: 'ens18', active: true, type: 'ether', macaddress: '52:54:00:12:34:56', mtu: 1500,
        ipv4: { address: '10.0.0.11', broadcast: '10.0.0.255', netmask: '255.255.255.0', network: '10.0.0.0', prefix: '24' },
        ipv6: [{ address: '2001:db8:5::11', prefix: '64', scope: 'global' }, { address: 'fe80::1:2ff:fe03:405', prefix: '64', scope: 'link' }],
      },
      ens19: {
        device: 'ens19', active: false, type: 'ether', macaddress: '52:54:00:ab:cd:ef', mtu: 9000,
        ipv4: { address: '192.168.5.3', broadcast: '192.168.255.255', netmask: '255.255.0.0', network: '192.168.0.0', prefix: '16' },
      },
      lo: {
        device: 'lo', active: true, type: 'loopback', mtu: 65536,
        ipv4: { address: '127.0.0.1', broadcast: '', netmask: '255.0.0.0', network: '127.0.0.0', prefix: '8' },
        ipv6: [{ address: '::1', prefix: '128', scope: 'host' }],
      },
      user_id: 'root',
      user_uid: 0,
      user_gid: 0,
      user_dir: '/root',
      date_time: { epoch: '1717000000', iso8601: '2024-05-29T16:26:40Z', date: '2024-05-29', time: '18:26:40', tz: 'CEST', tz_offset: '+0200' },
      python: { has_python3: true, executable: '/usr/bin/python3' },
      virtualization_type: 'kvm',
    });
  });

  it('Ubuntu 22.04 and RHEL 9 distributions, as Ansible names them', () => {
    expect(distributionFacts(parseOsRelease(UBUNTU_2204), 'bookworm/sid\n')).toEqual({
      distribution: 'Ubuntu',
      distribution_version: '22.04',
      distribution_major_version: '22',
      distribution_release: 'jammy',
      os_family: 'Debian',
    });
    expect(distributionFacts(parseOsRelease(RHEL_9), '')).toEqual({
      distribution: 'RedHat',
      distribution_version: '9.4',
      distribution_major_version: '9',
      distribution_release: 'Plow',
      os_family: 'RedHat',
    });
    expect(distributionFacts({ ID: 'rocky', VERSION_ID: '9.3', VERSION: '9.3 (Blue Onyx)' }, '')).toMatchObject({
      distribution: 'Rocky',
      distribution_release: 'Blue Onyx',
      os_family: 'RedHat',
    });
    // an unknown derivative falls back to NAME and ID_LIKE
    expect(distributionFacts({ ID: 'mydeb', NAME: 'MyDeb', ID_LIKE: 'ubuntu debian', VERSION_ID: '1' }, '')).toMatchObject({
      distribution: 'MyDeb',
      os_family: 'Debian',
    });
    // Debian testing has no numeric debian_version: keep os-release's
    expect(distributionFacts({ ID: 'debian', VERSION_ID: '13' }, 'trixie/sid')).toMatchObject({ distribution_version: '13' });
  });

  it('os-release quoting', () => {
    expect(parseOsRelease(`A="x \\"y\\" \\$z"\nB='s q'\nC=plain\n# comment\nbad line\n`)).toEqual({ A: 'x "y" $z', B: 's q', C: 'plain' });
  });

  it('RHEL 9 host without ip: hostname -I, dnf over yum, sysvinit-less container', () => {
    const f = parseFacts(
      output({
        'os-release': RHEL_9,
        hostname: 'obs.lab\n',
        uname: 'Linux\n5.14.0-427.el9.x86_64\nx86_64\nobs.lab\n#1 SMP\n',
        nproc: '2\n',
        sockets: '0\n',
        meminfo: 'MemTotal: 2048000 kB\n',
        init: 'bash\n',
        pkg: 'dnf\nyum\n',
        hostname_i: '172.17.0.2 fe80::1 \n',
        user: 'admin\n1000\n1000\n/home/admin\n',
        virt: 'none\n',
      }),
    );
    expect(f).toMatchObject({
      distribution: 'RedHat',
      hostname: 'obs',
      fqdn: 'obs.lab',
      processor_count: 1,
      memtotal_mb: 2000,
      memfree_mb: 0,
      service_mgr: 'bash',
      pkg_mgr: 'dnf',
      all_ipv4_addresses: ['172.17.0.2'],
      default_ipv4: { address: '172.17.0.2' },
      python: { has_python3: false, executable: null },
    });
  });

  it('output that is not the script`s (no end marker) is refused', () => {
    expect(() => parseFacts('garbage')).toThrow(/no end marker/);
    expect(() => parseFacts(debianHost.replace(`${MARK} end`, ''))).toThrow(/no end marker/);
  });
});

describe('setup module', () => {
  it('one query; facts under ansible_facts and as ansible_<name>; never a change', async () => {
    const r = new FakeRemote().onQuery(FACTS_SCRIPT, { stdout: debianHost });
    const res = await runModule(setup, {}, r);
    expect(res.changed).toBe(false);
    expect(r.roundTrips).toBe(1);
    expect(r.calls[0].opts).toEqual({ timeoutMs: 30000 });
    const facts = res.plan.facts!;
    expect((facts.ansible_facts as Record<string, unknown>).os_family).toBe('Debian');
    expect(facts.ansible_os_family).toBe('Debian');
    expect(facts.ansible_default_ipv4).toMatchObject({ interface: 'ens18', address: '10.0.0.11', gateway: '10.0.0.1', prefix: '24' });
    // an interface's facts are top-level too, as ansible_<iface>
    expect(facts.ansible_ens19).toMatchObject({ device: 'ens19', mtu: 9000, active: false });
  });

  it('filter keeps the matching facts only', async () => {
    const r = new FakeRemote().onQuery(() => true, { stdout: debianHost });
    const res = await runModule(setup, { filter: ['ansible_distribution*', 'ansible_pkg_mgr'] }, r);
    expect(Object.keys(res.plan.facts!).sort()).toEqual([
      'ansible_distribution',
      'ansible_distribution_major_version',
      'ansible_distribution_release',
      'ansible_distribution_version',
      'ansible_facts',
      'ansible_pkg_mgr',
    ]);
  });

  it('a failing or unparsable probe fails with the host stderr', async () => {
    const r = new FakeRemote().onQuery(() => true, { rc: 126, stderr: 'sh: permission denied\n' });
    await expect(runModule(setup, {}, r, { host: 'db2' })).rejects.toMatchObject({
      message: 'fact gathering failed on db2 (rc=126): sh: permission denied',
      result: { rc: 126 },
    });
    const r2 = new FakeRemote().onQuery(() => true, { stdout: 'motd noise only' });
    await expect(runModule(setup, {}, r2)).rejects.toThrow(/no end marker/);
  });

  it('bad arguments', () => {
    expect(validateArgs(setup, { filter: { a: 1 } }).valid).toBe(false);
    // a YAML number where text is wanted is the text it spells, as the engine's ajv coerces it
    expect(validateArgs(setup, { filter: 3 }).args.filter).toBe('3');
    expect(validateArgs(setup, { gather_timeout: 0 }).valid).toBe(false);
    expect(validateArgs(setup, { fact_path: '/etc' }).valid).toBe(false);
    expect(validateArgs(setup, { gather_subset: ['!all', 'min'] }).valid).toBe(true);
  });

  it('check mode: the same facts, nothing mutates', async () => {
    const r = new FakeRemote().onQuery(() => true, { stdout: debianHost });
    expect((await runModule(setup, {}, r, { check: true })).plan.facts!.ansible_hostname).toBe('db1');
    expect(r.mutations).toBe(0);
  });

  it('the real script on this machine (Debian 12), in one command', async () => {
    const remote = new LocalRemote();
    const res = await runModule(setup, {}, remote);
    expect(remote.calls).toHaveLength(1);
    const f = res.plan.facts!.ansible_facts as Record<string, any>;
    expect(f.distribution).toBe('Debian');
    expect(f.os_family).toBe('Debian');
    expect(f.distribution_major_version).toBe('12');
    expect(f.distribution_version).toMatch(/^12\.\d+$/);
    expect(f.distribution_release).toBe('bookworm');
    expect(f.system).toBe('Linux');
    expect(f.kernel).toBe(os.release());
    expect(f.architecture).toBe(os.arch() === 'x64' ? 'x86_64' : f.architecture);
    expect(f.nodename).toBe(os.hostname());
    expect(f.processor_vcpus).toBe(os.availableParallelism());
    expect(Math.abs(f.memtotal_mb - Math.floor(os.totalmem() / 1048576))).toBeLessThanOrEqual(1);
    expect(f.pkg_mgr).toBe('apt');
    expect(f.user_id).toBe(os.userInfo().username);
    expect(Math.abs(Number(f.date_time.epoch) - Date.now() / 1000)).toBeLessThan(5);
    const v4 = Object.values(os.networkInterfaces())
      .flat()
      .filter((i) => i && i.family === 'IPv4' && !i.internal)
      .map((i) => i!.address)
      .sort();
    expect([...f.all_ipv4_addresses].sort()).toEqual(v4);
    if (f.default_ipv4.address) expect(v4).toContain(f.default_ipv4.address);
    expect(f.interfaces).toContain('lo');
    // per interface, as Ansible reads them: every interface of the machine, with its MTU and addresses
    const nics = os.networkInterfaces();
    for (const [name, addrs] of Object.entries(nics)) {
      expect(f[name.replace(/[^A-Za-z0-9_]/g, '_')]?.device).toBe(name);
      const a4 = (addrs ?? []).find((x) => x.family === 'IPv4');
      if (a4) expect([f[name].ipv4.address, f[name].ipv4.netmask]).toEqual([a4.address, a4.netmask]);
      const mac = (addrs ?? [])[0]?.mac;
      if (mac && mac !== '00:00:00:00:00:00') expect(f[name].macaddress).toBe(mac);
      expect(Number(fs.readFileSync(`/sys/class/net/${name}/mtu`, 'utf8'))).toBe(f[name].mtu);
    }
    if (f.default_ipv4.interface) expect(f.default_ipv4.netmask).toBe(f[f.default_ipv4.interface].ipv4.netmask);
  });

  it('the script starts few programs on the host (counted with PATH shims), and the facts are the same with them', () => {
    // each program is a fork and an exec on the host; files are read with the shell's own `read`
    const progs = ['cat', 'hostname', 'uname', 'nproc', 'getconf', 'grep', 'sort', 'wc', 'ip', 'ls', 'id', 'date', 'ps', 'systemd-detect-virt'];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-facts-shims-'));
    try {
      const shims = programShims(dir, progs);
      const run = (env: NodeJS.ProcessEnv) => parseFacts(execFileSync('/bin/sh', ['-c', FACTS_SCRIPT], { encoding: 'utf8', env }));
      const shimmed = run({ ...process.env, PATH: `${dir}:${process.env.PATH}` });
      const plain = run(process.env);
      const calls = shims.calls();
      expect(calls.length).toBeLessThanOrEqual(12);
      expect(calls).not.toContain('cat');
      const stable = (f: Record<string, any>) => ({ ...f, date_time: undefined, ansible_date_time: undefined, memfree_mb: undefined, ansible_memfree_mb: undefined });
      expect(stable(shimmed)).toEqual(stable(plain));
      expect(shimmed.user_uid).toBe(process.getuid!());
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
