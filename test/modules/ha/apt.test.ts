import * as fs from 'fs';
import apt from '../../../modules/apt';
import { ArgvRecorder, FakeHost, HOSTILE, LocalHost, readOnly, runTask, validate } from './fake';

const LOCK = '-o DPkg::Lock::Timeout=120';
const DPKG = '-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';
const ENV = { env: { DEBIAN_FRONTEND: 'noninteractive' } };
const installed = (n: string, v: string, cand = '') => `pkg ${n}\tinstall ok installed\t${v}\t${cand}`;
const absent = (n: string, cand = '') => `pkg ${n}\tnone\t\t${cand}`;
const rc = (n: string) => `pkg ${n}\tdeinstall ok config-files\t1.0\t`;

/** A host answering the one query with `lines()` (read each time, so a test can change it) and accepting every exec. */
function host(lines: () => string[]): FakeHost {
  return new FakeHost().onQuery(/./, () => ({ stdout: lines().join('\n') + '\n' })).onExec(/./, {});
}
const fixed = (l: string[]) => host(() => l);
const execs = (h: FakeHost) => h.calls.filter((c) => c.kind === 'exec').map((c) => [c.cmd, c.opts]);

describe('apt', () => {
  test('no change: installed, one query, no cache refresh asked', async () => {
    const h = fixed([installed('nginx', '1.22.1-9'), installed('ssl-cert', '1.1.2')]);
    const r = await runTask(apt, { name: ['nginx', 'ssl-cert'] }, h);
    expect(r.changed).toBe(false);
    expect(h.calls).toHaveLength(1);
    expect(h.cmds('query')[0]).not.toContain('apt-cache policy');
    expect(h.cmds('query')[0]).not.toContain('update-success-stamp');
    expect(r.result).toMatchObject({ changed: false, installed: [], removed: [], cache_updated: false });
  });

  test('drift: install with install_recommends, default_release, dpkg_options, allow_downgrade: exact command', async () => {
    const h = fixed([installed('nginx', '1.22'), absent('haproxy')]);
    const r = await runTask(apt, { pkg: 'nginx,haproxy=2.6.12-1', install_recommends: false, default_release: 'bookworm-backports', dpkg_options: 'force-confnew', allow_downgrade: true }, h);
    expect(execs(h)).toEqual([[`apt-get ${LOCK} -o Dpkg::Options::=--force-confnew -t bookworm-backports install -y --no-install-recommends --allow-downgrades -- haproxy=2.6.12-1`, ENV]]);
    expect(r.result).toMatchObject({ installed: ['haproxy=2.6.12-1'] });
    // the candidate is read for the release asked for
    const l = fixed([installed('nginx', '1.22', '1.24')]);
    await runTask(apt, { name: 'nginx', state: 'latest', default_release: 'bookworm-backports', install_recommends: true, force: true }, l);
    expect(l.cmds('query')[0]).toContain('apt-cache -o APT::Default-Release=bookworm-backports policy -- "$p"');
    expect(l.cmds('exec')).toEqual([`apt-get ${LOCK} ${DPKG} -t bookworm-backports install -y --install-recommends --allow-unauthenticated --allow-downgrades --allow-remove-essential --allow-change-held-packages -- nginx`]);
  });

  test('absent: purge also takes packages with only config files left; autoremove with it', async () => {
    const h = fixed([installed('telnet', '0.17'), rc('apache2'), absent('vim')]);
    const r = await runTask(apt, { name: ['telnet', 'apache2', 'vim'], state: 'absent', purge: true, autoremove: true }, h);
    expect(h.cmds('exec')).toEqual([`apt-get ${LOCK} ${DPKG} remove -y --purge --auto-remove -- telnet apache2`]);
    expect(r.result).toMatchObject({ removed: ['telnet', 'apache2'] });
    const d = r.plan.changes[0].kind === 'exec' ? r.plan.changes[0].diff : undefined;
    expect(d?.before).toBe('telnet 0.17\napache2: config files only\n');
    // without purge, config files alone are "not installed": nothing to do
    const n = fixed([rc('apache2')]);
    expect((await runTask(apt, { name: 'apache2', state: 'absent' }, n)).changed).toBe(false);
  });

  test('cache_valid_time: a fresh cache is not refreshed, a stale one is (host clock), alone it is the change', async () => {
    const fresh = fixed(['cache 1000', 'now 1500']);
    expect((await runTask(apt, { update_cache: true, cache_valid_time: 3600 }, fresh)).changed).toBe(false);
    expect(fresh.cmds('query')[0]).toContain("stat -c 'cache %Y' -- /var/lib/apt/periodic/update-success-stamp || stat -c 'cache %Y' -- /var/lib/apt/lists");

    const stale = fixed(['cache 1000', 'now 9000']);
    const r = await runTask(apt, { cache_valid_time: 3600 }, stale);
    expect(r.changed).toBe(true);
    expect(execs(stale)).toEqual([[`apt-get ${LOCK} update`, ENV]]);
    expect(r.result).toMatchObject({ cache_updated: true });
    // update_cache without cache_valid_time refreshes every run, as Ansible's does
    const always = fixed(['cache 1000', 'now 1001']);
    expect((await runTask(apt, { update_cache: true }, always)).changed).toBe(true);
  });

  test('update_cache with packages: a real run refreshes, plans again, and is ok when nothing else changed', async () => {
    let cache = ['cache 1000', 'now 9000'];
    const h = host(() => [...cache, installed('nginx', '1.22', '1.22')]);
    h.onExec(/ update$/, () => ((cache = ['cache 9000', 'now 9001']), {}));
    const r = await runTask(apt, { name: 'nginx', update_cache: true, cache_valid_time: 60 }, h);
    expect(h.cmds('exec')).toEqual([`apt-get ${LOCK} update`]);
    expect(r.changed).toBe(false);
    expect(r.result).toMatchObject({ cache_updated: true, cache_update_time: 9000 });

    // latest: the new candidate is only known after the refresh
    let cand = '1.22';
    const l = host(() => ['cache 1000', 'now 9000', installed('nginx', '1.22', cand)]);
    l.onExec(/ update$/, () => ((cand = '1.24'), {}));
    const lr = await runTask(apt, { name: 'nginx', state: 'latest', update_cache: true }, l);
    expect(l.cmds('exec')).toEqual([`apt-get ${LOCK} update`, `apt-get ${LOCK} ${DPKG} install -y -- nginx`]);
    expect(lr.changed).toBe(true);
    expect(lr.result).toMatchObject({ upgraded: ['nginx'] });
  });

  test('check mode: compares against the cache as it is, never mutates; the refresh shows only before other work', async () => {
    const h = fixed(['cache 1000', 'now 9000', installed('nginx', '1.22'), absent('haproxy')]);
    const ro = readOnly(h);
    const ok = await runTask(apt, { name: 'nginx', update_cache: true }, ro, { check: true });
    expect(ok.changed).toBe(false);
    const r = await runTask(apt, { name: ['nginx', 'haproxy'], update_cache: true }, ro, { check: true });
    expect(r.changed).toBe(true);
    expect(r.plan.changes.map((c) => (c.kind === 'exec' ? c.summary : ''))).toEqual(['update the apt cache', 'install haproxy']);
    expect(r.result.msg).toBe('would install haproxy');
    const alone = await runTask(apt, { update_cache: true }, ro, { check: true });
    expect(alone.changed).toBe(true);
    expect(ro.violations).toEqual([]);
    expect(h.mutations()).toEqual([]);
  });

  test('deb: installed with apt-get (dependencies too) unless that version is there', async () => {
    const h = fixed(['deb patroni\t3.0.2-1\tinstall ok installed\t2.1.6-1']);
    const r = await runTask(apt, { deb: '/tmp/patroni_3.0.2-1_all.deb' }, h);
    expect(h.cmds('query')[0]).toContain("dpkg-deb -f -- /tmp/patroni_3.0.2-1_all.deb Package Version");
    expect(h.cmds('exec')).toEqual([`apt-get ${LOCK} ${DPKG} install -y -- /tmp/patroni_3.0.2-1_all.deb`]);
    expect(r.result).toMatchObject({ deb: { name: 'patroni', version: '3.0.2-1' } });
    const same = fixed(['deb patroni\t3.0.2-1\tinstall ok installed\t3.0.2-1']);
    expect((await runTask(apt, { deb: 'patroni.deb' }, same)).changed).toBe(false);
    // a relative path stays a path (./), never an option
    expect(same.cmds('query')[0]).toContain('dpkg-deb -f -- ./patroni.deb');
    await expect(runTask(apt, { deb: '/nope.deb' }, fixed(["debfail dpkg-deb: error: failed to read archive '/nope.deb': No such file or directory"]))).rejects.toThrow(/apt: deb \/nope.deb: cannot read it on db1: dpkg-deb: error: failed to read archive/);
  });

  test('autoremove, autoclean, build-dep and upgrade act only when apt-get -s says there is something', async () => {
    const none = fixed([]);
    const n = await runTask(apt, { autoremove: true, autoclean: true }, none);
    expect(n.changed).toBe(false);
    expect(none.cmds('query')[0]).toContain(`LC_ALL=C apt-get ${LOCK} ${DPKG} -s autoremove`);
    expect(none.cmds('query')[0]).toContain(`LC_ALL=C apt-get ${LOCK} ${DPKG} -s autoclean`);

    const some = fixed(['sim autoremove Remv libfoo1 [1.0]', 'sim autoclean Del foo 1.0 [12 kB]']);
    await runTask(apt, { autoremove: true, autoclean: true, purge: true }, some);
    expect(some.cmds('exec')).toEqual([`apt-get ${LOCK} ${DPKG} -y autoclean`, `apt-get ${LOCK} ${DPKG} -y --purge autoremove`]);

    const bd = fixed(['sim build-dep Inst debhelper (13.11.4 Debian:12.5/stable [all])']);
    await runTask(apt, { name: 'nginx', state: 'build-dep' }, bd);
    expect(bd.cmds('query')[0]).toContain(`apt-get ${LOCK} ${DPKG} -s build-dep -- nginx`);
    expect(bd.cmds('exec')).toEqual([`apt-get ${LOCK} ${DPKG} -y build-dep -- nginx`]);

    const up = fixed(['sim upgrade Inst bash [5.2.15-2] (5.2.15-2+b2 Debian:12.5/stable [amd64])']);
    await runTask(apt, { upgrade: 'dist' }, up);
    expect(up.cmds('exec')).toEqual([`apt-get ${LOCK} ${DPKG} -y dist-upgrade`]);
    const all = fixed(['sim upgrade Inst bash [5.2.15-2] (5.2.15-2+b2 Debian:12.5/stable [amd64])']);
    await runTask(apt, { name: '*', state: 'latest' }, all);
    expect(all.cmds('exec')).toEqual([`apt-get ${LOCK} ${DPKG} -y upgrade --with-new-pkgs`]);

    await expect(runTask(apt, { name: 'nope', state: 'build-dep' }, fixed(["simfail build-dep E: You must put some 'deb-src' URIs in your sources.list"]))).rejects.toThrow("apt: build-dep would fail on db1: E: You must put some 'deb-src' URIs in your sources.list");
  });

  test('fixed and only_upgrade', async () => {
    const h = fixed([absent('nginx'), installed('bash', '5.1', '5.2')]);
    await runTask(apt, { name: 'nginx', state: 'fixed' }, h);
    expect(h.cmds('exec')).toEqual([`apt-get ${LOCK} ${DPKG} install -y --fix-broken -- nginx`]);
    const u = fixed([absent('nginx'), installed('bash', '5.1', '5.2')]);
    await runTask(apt, { name: ['nginx', 'bash'], state: 'latest', only_upgrade: true }, u);
    expect(u.cmds('exec')).toEqual([`apt-get ${LOCK} ${DPKG} install -y --only-upgrade -- bash`]);
  });

  test('bad arguments fail before anything runs', async () => {
    expect(validate(apt, { name: '-oAPT::Update::Pre-Invoke::=id' }).valid).toBe(false);
    expect(validate(apt, { name: 'x', state: 'installed' }).valid).toBe(false);
    expect(validate(apt, { name: 'x', cache_valid_time: -1 }).valid).toBe(false);
    expect(validate(apt, { name: 'x', default_release: '-oX=y' }).valid).toBe(false);
    expect(validate(apt, { name: 'x', upgrade: 'maybe' }).valid).toBe(false);
    expect(validate(apt, { name: 'x', lock: 1 }).errors.join()).toContain("unsupported argument 'lock'");
    expect(validate(apt, { name: 'x', update_cache: 'yes' }).args).toMatchObject({ update_cache: true, state: 'present', dpkg_options: 'force-confdef,force-confold' });
    const h = fixed([]);
    await expect(runTask(apt, { name: 'vim, -oAPT::Update::Pre-Invoke::=id' }, h)).rejects.toThrow('apt: "-oAPT::Update::Pre-Invoke::=id" is not a package name (it starts with "-")');
    await expect(runTask(apt, { deb: '/x.deb', state: 'absent' }, h)).rejects.toThrow('apt: deb only supports state: present');
    await expect(runTask(apt, { name: 'x', dpkg_options: 'force-confold,-x' }, h)).rejects.toThrow('apt: dpkg_options: "-x" is not a dpkg option');
    await expect(runTask(apt, {}, h)).rejects.toThrow('apt: give name, deb, upgrade, autoremove, autoclean or update_cache');
    await expect(runTask(apt, { name: ['*', 'vim'], state: 'latest' }, h)).rejects.toThrow('cannot install other packages while upgrading');
    expect(h.calls).toEqual([]);
  });
});

describe('apt (real dpkg and apt-get -s on this machine, read-only)', () => {
  test('the whole query runs for real in check mode: packages, cache age, a real .deb, autoclean simulation', async () => {
    const debs = fs.readdirSync('/var/cache/apt/archives').filter((f) => f.endsWith('.deb'));
    const h = readOnly(new LocalHost());
    const r = await runTask(apt, { name: ['bash', 'tsplay-no-such-package'], update_cache: true, cache_valid_time: 10 ** 9 }, h, { check: true });
    expect(r.result).toMatchObject({ installed: ['tsplay-no-such-package'], cache_updated: false });
    expect(typeof r.result.cache_update_time).toBe('number');
    expect(r.plan.changes.map((c) => (c.kind === 'exec' ? c.summary : ''))).toEqual(['install tsplay-no-such-package']);
    if (debs.length) {
      const d = await runTask(apt, { deb: `/var/cache/apt/archives/${debs[0]}` }, h, { check: true });
      expect((d.result.deb as { name: string }).name).toBe(debs[0].split('_')[0]);
    }
    const c = await runTask(apt, { autoclean: true }, h, { check: true });
    expect(Array.isArray(c.plan.changes)).toBe(true);
    expect(h.violations).toEqual([]);
  });

  test('hostile names reach apt-get as literal words after --', async () => {
    const names = HOSTILE.filter((n) => !/^[-\s]/.test(n));
    const rec = new ArgvRecorder({ 'apt-get': '' });
    try {
      const h = fixed([]);
      await runTask(apt, { name: names, state: 'present' }, h);
      for (const cmd of h.cmds('exec')) expect((await rec.run(cmd)).rc).toBe(0);
      const [argv] = rec.records();
      expect(argv.slice(argv.indexOf('--') + 1)).toEqual(names);
      expect(fs.existsSync('/tmp/pwned')).toBe(false);
    } finally {
      rec.cleanup();
    }
  });
});
