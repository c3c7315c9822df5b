import * as fs from 'fs';
import * as path from 'path';
import sysctl, { editSysctl, normaliseValue, procPath } from '../../modules/sysctl';
import { getModule } from '../../modules/index';
import { FakeRemote, LocalRemote, makeTempDir, runModule, snapshotTree, validateArgs } from '../helpers/fake-remote';

const CONF = '# kernel\nvm.swappiness = 10\n; old style comment\nnet.ipv4.ip_forward=0\n';

describe('editSysctl (pure)', () => {
  it.each([
    ['replaces the entry, keeping every other line', CONF, 'net.ipv4.ip_forward', '1', '# kernel\nvm.swappiness = 10\n; old style comment\nnet.ipv4.ip_forward=1\n'],
    ['appends a new key', CONF, 'kernel.pid_max', '4194304', CONF + 'kernel.pid_max=4194304\n'],
    ['appends after a last line without newline', 'a=1', 'b', '2', 'a=1\nb=2\n'],
    ['drops later duplicates (they would win at sysctl -p)', 'k=1\nk=2\n', 'k', '3', 'k=3\n'],
    ['creates an empty file', '', 'k', '1', 'k=1\n'],
  ])('%s', (_n, text, key, value, want) => {
    expect(editSysctl(text, key, 'present', value)).toMatchObject({ text: want, changed: true });
  });

  it('an equal value in any spelling is no change; absent removes every entry', () => {
    expect(editSysctl(CONF, 'vm.swappiness', 'present', '10')).toEqual({ text: CONF, changed: false, before: '10' });
    expect(editSysctl('r = 1024\t 65000\n', 'r', 'present', normaliseValue('1024 65000'))).toMatchObject({ changed: false });
    expect(editSysctl('k=1\nx=2\nk = 1\n', 'k', 'absent')).toMatchObject({ text: 'x=2\n', changed: true });
    expect(editSysctl('#k=1\n', 'k', 'absent')).toMatchObject({ text: '#k=1\n', changed: false });
  });

  it('values compare as Ansible reads them; keys map to /proc/sys', () => {
    expect([normaliseValue(true), normaliseValue('yes'), normaliseValue('Off'), normaliseValue(' 1  2 '), normaliseValue(5)]).toEqual(['1', '1', '0', '1 2', '5']);
    expect(procPath('net.ipv4.conf.eth0/100.rp_filter')).toBe('/proc/sys/net/ipv4/conf/eth0.100/rp_filter');
  });
});

describe('sysctl module (fake host)', () => {
  const host = (): FakeRemote =>
    new FakeRemote().addDir('/etc').addFile('/etc/sysctl.conf', CONF, { mode: '0640' }).addFile('/proc/sys/net/ipv4/ip_forward', '0\n').addFile('/proc/sys/vm/swappiness', '10\n');

  it('no change: the file already says so (and the kernel, with sysctl_set); no command at all', async () => {
    const r = host();
    const res = await runModule(sysctl, { name: 'vm.swappiness', value: 10, sysctl_set: true }, r);
    expect(res.changed).toBe(false);
    expect(r.calls).toEqual([]);
    expect(res.registered).toMatchObject({ name: 'vm.swappiness', value: '10', sysctl_file: '/etc/sysctl.conf' });
  });

  it('drift: the exact write, then sysctl -w (sysctl_set) and sysctl -p', async () => {
    const r = host().onExec(() => true, {});
    const res = await runModule(sysctl, { name: 'net.ipv4.ip_forward', value: 'yes', sysctl_set: true }, r);
    expect(res.changed).toBe(true);
    expect(r.writes.map((w) => [w.path, w.data.toString(), w.opts.mode])).toEqual([['/etc/sysctl.conf', CONF.replace('forward=0', 'forward=1'), '0640']]);
    expect(r.execs).toEqual(['sysctl -w -- net.ipv4.ip_forward=1', 'sysctl -p -- /etc/sysctl.conf']);
  });

  it('a new file under sysctl.d, ignoreerrors reloads with -e, reload: false runs nothing', async () => {
    const r = host().addDir('/etc/sysctl.d').onExec(() => true, {});
    await runModule(sysctl, { name: 'kernel.x', value: '1', sysctl_file: '/etc/sysctl.d/60 x.conf', ignoreerrors: true }, r);
    expect(r.writes[0]).toMatchObject({ path: '/etc/sysctl.d/60 x.conf', opts: { mode: '0644' } });
    expect(r.execs).toEqual(["sysctl -e -p -- '/etc/sysctl.d/60 x.conf'"]);
    const r2 = host();
    await runModule(sysctl, { name: 'vm.swappiness', state: 'absent', reload: false }, r2);
    expect(r2.content('/etc/sysctl.conf')).toBe('# kernel\n; old style comment\nnet.ipv4.ip_forward=0\n');
    expect(r2.execs).toEqual([]);
  });

  it('a hostile value stays one quoted word', async () => {
    const r = host().onExec(() => true, {});
    await runModule(sysctl, { name: 'net.ipv4.ip_forward', value: '1 $(touch /x); id', sysctl_set: true }, r);
    expect(r.execs[0]).toBe("sysctl -w -- 'net.ipv4.ip_forward=1 $(touch /x); id'");
  });

  it('an unknown key with sysctl_set fails before anything is written', async () => {
    const r = host();
    await expect(runModule(sysctl, { name: 'no.such.key', value: '1', sysctl_set: true }, r)).rejects.toThrow('unknown sysctl key no.such.key (no /proc/sys/no/such/key)');
    expect(r.mutations).toBe(0);
  });

  it('bad arguments', () => {
    expect(validateArgs(sysctl, { name: '-w', value: '1' }).valid).toBe(false);
    expect(validateArgs(sysctl, { name: 'a b', value: '1' }).valid).toBe(false);
    expect(validateArgs(sysctl, { name: 'vm.x' }).valid).toBe(false);
    expect(validateArgs(sysctl, { name: 'vm.x', value: '1', sysctl_file: 'rel.conf' }).valid).toBe(false);
    expect(validateArgs(sysctl, { name: 'vm.x', key: 'vm.y', value: '1' }).valid).toBe(false);
    expect(validateArgs(sysctl, { key: 'vm.x', val: 1 }).valid).toBe(true);
    expect(validateArgs(sysctl, { name: 'vm.x', state: 'absent' }).valid).toBe(true);
    expect(getModule('ansible.posix.sysctl')).toBe(sysctl);
  });

  it('check mode: the write and both commands are planned, nothing mutates', async () => {
    const r = host();
    const res = await runModule(sysctl, { name: 'net.ipv4.ip_forward', value: 1, sysctl_set: true }, r, { check: true });
    expect(res.changed).toBe(true);
    expect(res.plan.changes.map((c) => (c.kind === 'exec' ? c.command : c.path))).toEqual(['/etc/sysctl.conf', 'sysctl -w -- net.ipv4.ip_forward=1', 'sysctl -p -- /etc/sysctl.conf']);
    expect(r.mutations).toBe(0);
  });
});

describe('sysctl module (real files)', () => {
  it('edits a sysctl file in a sandbox; check mode leaves it alone; idempotent', async () => {
    const dir = makeTempDir();
    try {
      const f = path.join(dir, "60 'x'.conf");
      fs.writeFileSync(f, CONF);
      const remote = new LocalRemote();
      const args = { name: 'vm.swappiness', value: '1', sysctl_file: f, reload: false };
      const before = snapshotTree(dir);
      expect((await runModule(sysctl, args, remote, { check: true })).changed).toBe(true);
      expect(snapshotTree(dir)).toEqual(before);
      await runModule(sysctl, args, remote);
      expect(fs.readFileSync(f, 'utf8')).toBe(CONF.replace('vm.swappiness = 10', 'vm.swappiness=1'));
      expect((await runModule(sysctl, args, remote)).changed).toBe(false);
      expect(remote.execs).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
