import * as fs from 'fs';
import pkg, { queryScript } from '../../../modules/package';
import { ArgvRecorder, FakeHost, HOSTILE, LocalHost, readOnly, runTask, validate } from './fake';

const APT = { ansible_facts: { pkg_mgr: 'apt', os_family: 'Debian' } };
const DNF = { ansible_facts: { pkg_mgr: 'dnf', os_family: 'RedHat' } };
const APT_OPTS = '-o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';

function host(lines: string[]): FakeHost {
  return new FakeHost().onQuery(/./, { stdout: lines.join('\n') + '\n' }).onExec(/./, {});
}
const installed = (n: string, v: string, cand = '') => `pkg ${n}\tinstall ok installed\t${v}\t${cand}`;
const absent = (n: string, cand = '') => `pkg ${n}\tnone\t\t${cand}`;

describe('package (fake host)', () => {
  test('no change: everything installed, one query', async () => {
    const h = host([installed('haproxy', '2.6.12-1'), installed('etcd-server', '3.4.23-4')]);
    const r = await runTask(pkg, { name: ['haproxy', 'etcd-server'] }, h, { vars: APT });
    expect(r.changed).toBe(false);
    expect(h.calls).toHaveLength(1);
    expect(r.result).toEqual({ changed: false, installed: [], upgraded: [], removed: [], manager: 'apt' });
  });

  test('drift: install the missing ones with apt, noninteractive through env, cache first', async () => {
    const h = host([installed('haproxy', '2.6.12-1'), absent('patroni'), `pkg etcd-server\tdeinstall ok config-files\t3.4.23-4\t`]);
    const r = await runTask(pkg, { name: 'haproxy, patroni,etcd-server', update_cache: true }, h, { vars: APT });
    expect(h.calls.filter((c) => c.kind === 'exec').map((c) => [c.cmd, c.opts])).toEqual([
      [`apt-get ${APT_OPTS} update`, { env: { DEBIAN_FRONTEND: 'noninteractive' } }],
      [`apt-get ${APT_OPTS} install -y --no-install-recommends -- patroni etcd-server`, { env: { DEBIAN_FRONTEND: 'noninteractive' } }],
    ]);
    expect(r.result).toMatchObject({ installed: ['patroni', 'etcd-server'], removed: [] });
    const d = r.plan.changes[1].kind === 'exec' ? r.plan.changes[1].diff : undefined;
    expect(d).toEqual({ path: 'packages', before: 'patroni: not installed\netcd-server: not installed\n', after: 'patroni (candidate)\netcd-server (candidate)\n' });
  });

  test('update_cache alone refreshes; with nothing to install it does not', async () => {
    const h = host([installed('haproxy', '1')]);
    expect((await runTask(pkg, { name: 'haproxy', update_cache: true }, h, { vars: APT })).changed).toBe(false);
    const h2 = host([]);
    await runTask(pkg, { update_cache: true }, h2, { vars: DNF });
    expect(h2.cmds('exec')).toEqual(['dnf -q makecache']);
  });

  test('absent and latest', async () => {
    const h = host([installed('nginx', '1.22'), absent('apache2')]);
    const r = await runTask(pkg, { name: ['nginx', 'apache2'], state: 'absent' }, h, { vars: APT });
    expect(h.cmds('exec')).toEqual([`apt-get ${APT_OPTS} remove -y -- nginx`]);
    expect(r.result).toMatchObject({ removed: ['nginx'] });

    const l = host([installed('haproxy', '2.6.12-1', '2.6.12-1+deb12u1'), installed('etcd-server', '3.4', '3.4')]);
    const lr = await runTask(pkg, { name: ['haproxy', 'etcd-server'], state: 'latest' }, l, { vars: APT });
    expect(l.cmds('query')[0]).toContain('apt-cache policy');
    expect(l.cmds('exec')).toEqual([`apt-get ${APT_OPTS} install -y --no-install-recommends -- haproxy`]);
    expect(lr.result).toMatchObject({ upgraded: ['haproxy'], installed: [] });
  });

  test('apt pins: name=version installs when the version differs', async () => {
    const h = host([installed('haproxy', '2.6.12-1')]);
    expect((await runTask(pkg, { name: 'haproxy=2.6.12-1' }, h, { vars: APT })).changed).toBe(false);
    expect(h.cmds('query')[0]).toContain("for p in haproxy; do");
    const h2 = host([installed('haproxy', '2.6.12-1')]);
    await runTask(pkg, { name: 'haproxy=2.6.12-1+deb12u1' }, h2, { vars: APT });
    expect(h2.cmds('exec')).toEqual([`apt-get ${APT_OPTS} install -y --no-install-recommends -- haproxy=2.6.12-1+deb12u1`]);
  });

  test('dnf: rpm state, install/upgrade/remove commands, no apt env', async () => {
    const h = host([installed('haproxy', '2.4.22-1.el9'), absent('patroni'), 'upg haproxy']);
    const r = await runTask(pkg, { names: ['haproxy', 'patroni'], state: 'latest' }, h, { vars: DNF });
    expect(h.cmds('query')[0]).toContain('m=dnf\n');
    expect(h.cmds('query')[0]).toContain("$m -q -C list --upgrades -- haproxy patroni");
    expect(h.calls.filter((c) => c.kind === 'exec').map((c) => [c.cmd, c.opts])).toEqual([
      ['dnf install -y -- patroni', undefined],
      ['dnf upgrade -y -- haproxy', undefined],
    ]);
    expect(r.result).toMatchObject({ installed: ['patroni'], upgraded: ['haproxy'], manager: 'dnf' });
  });

  test('no pkg_mgr fact: detected in the same query', async () => {
    const h = host(['mgr yum', absent('chrony')]);
    await runTask(pkg, { name: 'chrony' }, h);
    expect(h.calls).toHaveLength(2);
    expect(h.cmds('query')[0]).toContain('for m in apt-get dnf yum');
    expect(h.cmds('exec')).toEqual(['yum install -y -- chrony']);
    await expect(runTask(pkg, { name: 'chrony' }, host([]))).rejects.toThrow('no apt-get, dnf or yum on db1');
  });

  test('check mode: lists what would be installed/removed, never mutates', async () => {
    const h = host([absent('patroni'), installed('nginx', '1')]);
    const ro = readOnly(h);
    const r = await runTask(pkg, { name: ['patroni'], update_cache: true }, ro, { vars: APT, check: true });
    expect(r.changed).toBe(true);
    expect(r.result.msg).toBe('would install patroni');
    expect(ro.violations).toEqual([]);
    expect(h.mutations()).toEqual([]);
  });

  test('bad arguments', () => {
    expect(validate(pkg, { name: '-oAPT::Update::Pre-Invoke::=id' }).valid).toBe(false);
    expect(validate(pkg, { name: ['ok', ' x'] }).valid).toBe(false);
  });

  test('a comma-separated name with an option-like part fails before anything runs', async () => {
    const h = new FakeHost().onQuery(/./, { stdout: '' }).onExec(/./, {});
    await expect(runTask(pkg, { name: 'vim, -oAPT::Update::Pre-Invoke::=id' }, h, { vars: APT })).rejects.toThrow('package: "-oAPT::Update::Pre-Invoke::=id" is not a package name (it starts with "-")');
    expect(h.calls).toEqual([]);
  });

  test('bad arguments, continued', () => {
    expect(validate(pkg, { name: 'x', state: 'installed' }).valid).toBe(false);
    expect(validate(pkg, { name: { a: 1 } }).valid).toBe(false);
    // a YAML number where text is wanted is the text it spells, as the engine's ajv coerces it
    expect(validate(pkg, { name: 3 }).args.name).toBe('3');
    expect(validate(pkg, { pkg: 'x' }).valid).toBe(false);
    expect(validate(pkg, { name: 'x' }).args).toMatchObject({ state: 'present', update_cache: false });
  });
});

describe('package: the pass-through arguments of the manager', () => {
  test('dnf: enablerepo/disablerepo/disable_gpg_check on every command and the upgrade query', async () => {
    const h = host([absent('patroni'), installed('haproxy', '2.4'), 'upg haproxy']);
    await runTask(pkg, { name: ['patroni', 'haproxy'], state: 'latest', enablerepo: 'epel,pgdg15', disablerepo: ['*'], disable_gpg_check: true, update_cache: true }, h, { vars: DNF });
    expect(h.cmds('query')[0]).toContain("$m -q -C '--disablerepo=*' --enablerepo=epel,pgdg15 --nogpgcheck list --upgrades -- patroni haproxy");
    expect(h.cmds('exec')).toEqual([
      "dnf -q makecache '--disablerepo=*' --enablerepo=epel,pgdg15 --nogpgcheck",
      "dnf install -y '--disablerepo=*' --enablerepo=epel,pgdg15 --nogpgcheck -- patroni",
      "dnf upgrade -y '--disablerepo=*' --enablerepo=epel,pgdg15 --nogpgcheck -- haproxy",
    ]);
  });

  test('apt: install_recommends and default_release', async () => {
    const h = host([absent('nginx')]);
    await runTask(pkg, { name: 'nginx', install_recommends: true, default_release: 'bookworm-backports' }, h, { vars: APT });
    expect(h.cmds('exec')).toEqual([`apt-get ${APT_OPTS} -t bookworm-backports install -y --install-recommends -- nginx`]);
  });

  test("an argument of the other manager is an error naming it; a repo id that is an option is refused", async () => {
    await expect(runTask(pkg, { name: 'nginx', enablerepo: 'epel' }, host([absent('nginx')]), { vars: APT })).rejects.toThrow('package: enablerepo is an argument of dnf/yum, but db1 uses apt');
    await expect(runTask(pkg, { name: 'x', install_recommends: false, default_release: 'r' }, host([absent('x')]), { vars: DNF })).rejects.toThrow('package: install_recommends, default_release are arguments of apt, but db1 uses dnf');
    const h = host([]);
    await expect(runTask(pkg, { name: 'x', enablerepo: '--setopt=x' }, h, { vars: DNF })).rejects.toThrow('enablerepo: "--setopt=x" is not a repository id');
    expect(h.mutations()).toEqual([]);
  });
});

describe('package (real dpkg on this machine, read-only)', () => {
  test('check mode against the real dpkg database', async () => {
    const h = readOnly(new LocalHost());
    const r = await runTask(pkg, { name: ['bash', 'coreutils', 'tsplay-no-such-package'], state: 'present' }, h, { vars: APT, check: true });
    expect(r.result).toMatchObject({ installed: ['tsplay-no-such-package'], upgraded: [], removed: [] });
    expect(r.result.msg).toBe('would install tsplay-no-such-package');
    const gone = await runTask(pkg, { name: ['bash', 'tsplay-no-such-package'], state: 'absent' }, h, { vars: APT, check: true });
    expect(gone.result).toMatchObject({ removed: ['bash'] });
    expect(h.violations).toEqual([]);
  });

  test('latest reads the real candidate; the detection fallback finds apt-get', async () => {
    const h = readOnly(new LocalHost());
    const r = await runTask(pkg, { name: 'bash', state: 'latest' }, h, { check: true });
    expect(r.result.manager).toBe('apt');
    // bash's installed version is this machine's candidate unless an upgrade is pending
    expect(Array.isArray(r.result.upgraded)).toBe(true);
  });

  test('hostile names: literal for dpkg-query (real) and for apt-get (recorded)', async () => {
    const names = HOSTILE.filter((n) => !/^[-\s]/.test(n));
    const q = await new LocalHost().query(queryScript('apt', names, false));
    expect(q.stdout.split('\n').filter(Boolean)).toEqual(names.flatMap((n) => `pkg ${n}\tnone\t\t`.split('\n')));
    expect(fs.existsSync('/tmp/pwned')).toBe(false);

    const rec = new ArgvRecorder({ 'apt-get': '' });
    try {
      const h = new FakeHost().onQuery(/./, { stdout: '' }).onExec(/./, {});
      await runTask(pkg, { name: names }, h, { vars: APT });
      for (const c of h.cmds('exec')) expect((await rec.run(c)).rc).toBe(0);
      const [argv] = rec.records();
      expect(argv.slice(argv.indexOf('--') + 1)).toEqual(names);
    } finally {
      rec.cleanup();
    }
  });
});
