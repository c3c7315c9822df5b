import timezone from '../../modules/timezone';
import { getModule } from '../../modules/index';
import { FakeRemote, runModule, validateArgs } from '../helpers/fake-remote';

const SHOW = 'timedatectl show -p Timezone -p LocalRTC';
const zones = (): FakeRemote => new FakeRemote().addDir('/usr').addFile('/usr/share/zoneinfo/Europe/Paris', 'TZif').addFile('/usr/share/zoneinfo/UTC', 'TZif');

describe('timezone module', () => {
  it('no change (systemd): one stat, one timedatectl show', async () => {
    const r = zones().onQuery(SHOW, { stdout: 'Timezone=Europe/Paris\nLocalRTC=no\n' });
    const res = await runModule(timezone, { name: 'Europe/Paris', hwclock: 'UTC' }, r);
    expect(res.changed).toBe(false);
    expect(r.roundTrips).toBe(2);
  });

  it('drift (systemd): set-timezone and set-local-rtc, with the diff', async () => {
    const r = zones().onQuery(SHOW, { stdout: 'Timezone=Etc/UTC\nLocalRTC=no\n' }).onExec(() => true, {});
    const res = await runModule(timezone, { name: 'Europe/Paris', hwclock: 'local' }, r);
    expect(r.execs).toEqual(['timedatectl set-timezone -- Europe/Paris', 'timedatectl set-local-rtc 1']);
    expect(res.plan.changes[0]).toMatchObject({ diff: { before: 'Etc/UTC\n', after: 'Europe/Paris\n' } });
  });

  it('drift (no systemd, Debian): /etc/timezone and the /etc/localtime link', async () => {
    const r = zones().addDir('/etc').addFile('/etc/timezone', 'Etc/UTC\n').addLink('/etc/localtime', '/usr/share/zoneinfo/Etc/UTC')
      .onQuery(SHOW, { rc: 1, stderr: 'System has not been booted with systemd' }).onExec(() => true, {});
    await runModule(timezone, { name: 'Europe/Paris' }, r);
    expect(r.writes.map((w) => [w.path, w.data.toString()])).toEqual([['/etc/timezone', 'Europe/Paris\n']]);
    expect(r.execs).toEqual(['ln -sfn -- /usr/share/zoneinfo/Europe/Paris /etc/localtime']);
    const ok = zones().addDir('/etc').addFile('/etc/timezone', 'UTC\n').addLink('/etc/localtime', '/usr/share/zoneinfo/UTC').onQuery(SHOW, { rc: 1 });
    expect((await runModule(timezone, { name: 'UTC' }, ok)).changed).toBe(false);
  });

  it('an unknown zone fails before anything runs; bad arguments', async () => {
    const r = zones();
    await expect(runModule(timezone, { name: 'Mars/Olympus' }, r)).rejects.toThrow('unknown time zone Mars/Olympus');
    expect(r.calls).toEqual([]);
    expect(validateArgs(timezone, { name: '-h' }).valid).toBe(false);
    expect(validateArgs(timezone, { name: '../../etc/shadow' }).valid).toBe(false);
    expect(validateArgs(timezone, {}).valid).toBe(false);
    expect(validateArgs(timezone, { hwclock: 'utc' }).valid).toBe(false);
    expect(validateArgs(timezone, { name: 'Etc/GMT+1' }).valid).toBe(true);
    expect(getModule('community.general.timezone')).toBe(timezone);
  });

  it('check mode: planned, nothing mutates', async () => {
    const r = zones().onQuery(SHOW, { stdout: 'Timezone=UTC\nLocalRTC=no\n' });
    const res = await runModule(timezone, { name: 'Europe/Paris' }, r, { check: true });
    expect(res.plan.changes).toMatchObject([{ command: 'timedatectl set-timezone -- Europe/Paris' }]);
    expect(r.mutations).toBe(0);
  });
});
