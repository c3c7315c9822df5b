import dnf from '../../../modules/dnf';
import yum from '../../../modules/yum';
import { FakeHost, readOnly, runTask, validate } from './fake';

const installed = (n: string, v: string) => `pkg ${n}\tinstall ok installed\t${v}\t`;
const absent = (n: string) => `pkg ${n}\tnone\t\t`;
const host = (lines: string[]) => new FakeHost().onQuery(/./, { stdout: lines.join('\n') + '\n' }).onExec(/./, {});

// no RPM system here: the commands are checked on paper, word for word
describe('dnf / yum (planned commands)', () => {
  test('no change: installed, one query, the manager is the module (no detection)', async () => {
    const h = host([installed('postgresql15-server', '15.4-1PGDG.rhel9')]);
    const r = await runTask(dnf, { name: 'postgresql15-server', state: 'installed' }, h);
    expect(r.changed).toBe(false);
    expect(h.calls).toHaveLength(1);
    expect(h.cmds('query')[0]).toMatch(/^m=dnf\n/);
    expect(r.result).toMatchObject({ manager: 'dnf', installed: [] });
  });

  test('drift: exact commands with repositories, gpg check off, cache first', async () => {
    const h = host([absent('patroni'), installed('haproxy', '2.4.22-1.el9'), 'upg haproxy']);
    const r = await runTask(dnf, { name: ['patroni', 'haproxy'], state: 'latest', enablerepo: ['pgdg15', 'epel'], disablerepo: 'appstream', disable_gpg_check: true, update_cache: true }, h);
    const F = '--disablerepo=appstream --enablerepo=pgdg15,epel --nogpgcheck';
    expect(h.cmds('query')[0]).toContain(`$m -q -C ${F} list --upgrades -- patroni haproxy`);
    expect(h.cmds('exec')).toEqual([`dnf -q makecache ${F}`, `dnf install -y ${F} -- patroni`, `dnf upgrade -y ${F} -- haproxy`]);
    expect(r.result).toMatchObject({ installed: ['patroni'], upgraded: ['haproxy'] });
    const y = host([installed('chrony', '4.1'), absent('ntp')]);
    await runTask(yum, { pkg: 'chrony,ntp', state: 'removed' }, y);
    expect(y.cmds('query')[0]).toMatch(/^m=yum\n/);
    expect(y.cmds('exec')).toEqual(['yum remove -y -- chrony']);
  });

  test('check mode lists what would change and never mutates', async () => {
    const h = host([absent('patroni')]);
    const ro = readOnly(h);
    const r = await runTask(yum, { name: 'patroni', update_cache: true }, ro, { check: true });
    expect(r.changed).toBe(true);
    expect(r.result.msg).toBe('would install patroni');
    expect(ro.violations).toEqual([]);
    expect(h.mutations()).toEqual([]);
  });

  test('bad arguments: option-like names and repo ids, unknown states, nothing to do', async () => {
    expect(validate(dnf, { name: '--setopt=x' }).valid).toBe(false);
    expect(validate(dnf, { name: 'x', state: 'fixed' }).valid).toBe(false);
    expect(validate(yum, { name: 'x', list: 'installed' }).errors.join()).toContain("unsupported argument 'list'");
    const h = host([]);
    await expect(runTask(dnf, { name: 'vim,-x' }, h)).rejects.toThrow('dnf: "-x" is not a package name');
    await expect(runTask(dnf, { name: 'vim', enablerepo: '-x' }, h)).rejects.toThrow('enablerepo: "-x" is not a repository id');
    await expect(runTask(yum, {}, h)).rejects.toThrow('yum: give name');
    expect(h.calls).toEqual([]);
  });
});
