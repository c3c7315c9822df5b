import systemdUnit from '../../../modules/systemd_unit';
import { FakeHost, HOSTILE, readOnly, runTask, validate } from './fake';

const UNIT = '[Unit]\nDescription=Patroni\n[Service]\nUser=postgres\nExecStart=/usr/bin/patroni /etc/patroni/config.yml\n[Install]\nWantedBy=multi-user.target\n';
const PATH = '/etc/systemd/system/patroni.service';

function host(current?: string): FakeHost {
  const h = new FakeHost().onExec('systemctl daemon-reload', {});
  if (current !== undefined) h.files.set(PATH, current);
  return h;
}

describe('systemd_unit', () => {
  test('no change: same content, one read', async () => {
    const h = host(UNIT);
    const r = await runTask(systemdUnit, { name: 'patroni.service', content: UNIT }, h);
    expect(r.changed).toBe(false);
    expect(h.calls).toEqual([{ kind: 'readFile', path: PATH }]);
    expect(r.result).toMatchObject({ path: PATH, name: 'patroni.service' });
  });

  test('drift: write the file atomically, then daemon-reload', async () => {
    const h = host(UNIT.replace('postgres', 'root'));
    const r = await runTask(systemdUnit, { name: 'patroni.service', content: UNIT }, h);
    expect(r.plan.changes).toEqual([
      { kind: 'write', summary: `update ${PATH}`, path: PATH, before: UNIT.replace('postgres', 'root'), after: UNIT, mode: '0644', owner: 'root', group: 'root' },
      { kind: 'exec', summary: 'systemctl daemon-reload', command: 'systemctl daemon-reload' },
    ]);
    expect(h.mutations().map((c) => c.kind + ' ' + (c.path ?? c.cmd))).toEqual([`writeFile ${PATH}`, 'exec systemctl daemon-reload']);
    expect(h.files.get(PATH)).toBe(UNIT);
    expect((await runTask(systemdUnit, { name: 'patroni.service', content: UNIT }, h)).changed).toBe(false);
  });

  test('a new file; a missing final newline is added; daemon_reload can be turned off', async () => {
    const h = host();
    const r = await runTask(systemdUnit, { name: 'patroni.service', content: UNIT.trimEnd(), daemon_reload: false, mode: '0640' }, h);
    expect(r.plan.changes).toEqual([{ kind: 'write', summary: `create ${PATH}`, path: PATH, before: null, after: UNIT, mode: '0640', owner: 'root', group: 'root' }]);
  });

  test('check mode: shows the diff, writes nothing', async () => {
    const h = host();
    const ro = readOnly(h);
    const r = await runTask(systemdUnit, { name: 'patroni.service', content: UNIT }, ro, { check: true });
    expect(r.changed).toBe(true);
    expect(ro.violations).toEqual([]);
    expect(h.files.has(PATH)).toBe(false);
  });

  test('bad arguments: only unit file names, no paths', () => {
    for (const bad of ['../../etc/passwd.service', 'a/b.service', 'patroni', 'x.conf', '.service', ...HOSTILE.map((b) => `${b}.service`)]) {
      expect([bad, validate(systemdUnit, { name: bad, content: 'x' }).valid]).toEqual([bad, false]);
    }
    for (const good of ['patroni.service', 'postgresql@15-main.service', 'backup.timer', 'dev-disk-by\\x2dlabel.mount']) {
      expect([good, validate(systemdUnit, { name: good, content: 'x' }).valid]).toEqual([good, true]);
    }
    expect(validate(systemdUnit, { name: 'x.service' }).valid).toBe(false);
    expect(validate(systemdUnit, { name: 'x.service', content: 'x', mode: 'rw' }).valid).toBe(false);
  });

  test('hostile content is data for the write, never part of a command', async () => {
    const content = `[Service]\nExecStart=/bin/sh -c '${HOSTILE.join(' ')}'\n`;
    const h = host();
    await runTask(systemdUnit, { name: 'x.service', content }, h);
    expect(h.files.get('/etc/systemd/system/x.service')).toBe(content);
    expect(h.cmds('exec')).toEqual(['systemctl daemon-reload']);
  });
});
