import service from '../../../modules/service';
import systemd from '../../../modules/systemd';
import systemdService from '../../../modules/systemd_service';
import { getModule } from '../../../modules/index';
import { FakeHost, readOnly, runTask, validate } from './fake';

const PROPS = 'Id,LoadState,ActiveState,SubState,UnitFileState,NeedDaemonReload,CanReload,MainPID,FragmentPath,Description';
const show = (s: Record<string, string>) => Object.entries(s).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
const USER = 'XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}" systemctl --user';

/** A unit whose state follows the systemctl commands run (any scope prefix). */
function unitHost(initial: Record<string, string>): FakeHost & { state: Record<string, string> } {
  const h = new FakeHost() as FakeHost & { state: Record<string, string> };
  h.state = { LoadState: 'loaded', ActiveState: 'active', UnitFileState: 'enabled', NeedDaemonReload: 'no', CanReload: 'yes', ...initial };
  h.onQuery(/systemctl( --user)? show -p /, () => ({ stdout: show(h.state) }));
  h.onExec(/ (start|restart) -- /, () => ((h.state.ActiveState = 'active'), {}));
  h.onExec(/ stop -- /, () => ((h.state.ActiveState = 'inactive'), {}));
  h.onExec(/ enable -- /, () => ((h.state.UnitFileState = 'enabled'), {}));
  h.onExec(/ disable -- /, () => ((h.state.UnitFileState = 'disabled'), {}));
  h.onExec(/ mask -- /, () => ((h.state.UnitFileState = 'masked'), {}));
  h.onExec(/daemon-re(load|exec)$/, () => ((h.state.NeedDaemonReload = 'no'), {}));
  return h;
}

describe('systemd / systemd_service', () => {
  test('registered under both names and the FQCN', () => {
    expect(getModule('ansible.builtin.systemd')?.name).toBe('systemd');
    expect(getModule('ansible.builtin.systemd_service')?.name).toBe('systemd_service');
    expect(systemdService.schema).toBe(systemd.schema);
  });

  test('no change: one query; daemon_reload is never planned in a dry run', async () => {
    const h = unitHost({});
    const r = await runTask(systemd, { name: 'nginx', state: 'started', enabled: true }, h);
    expect(r.changed).toBe(false);
    expect(h.calls).toEqual([{ kind: 'query', cmd: `systemctl show -p ${PROPS} -- nginx`, opts: undefined }]);
    const ro = readOnly(unitHost({ ActiveState: 'inactive' }));
    const c = await runTask(systemd, { name: 'nginx', state: 'started', daemon_reload: true, daemon_reexec: true }, ro, { check: true });
    expect(c.plan.changes.map((x) => (x.kind === 'exec' ? x.command : ''))).toEqual(['systemctl start -- nginx']);
    expect(ro.violations).toEqual([]);
  });

  test('daemon_reload runs on every real run (Ansible) and alone is no change; with a unit the rest is planned after it', async () => {
    const alone = unitHost({});
    const a = await runTask(systemdService, { daemon_reload: true }, alone);
    expect(alone.cmds('exec')).toEqual(['systemctl daemon-reload']);
    expect(a.changed).toBe(false);
    expect(a.result).toMatchObject({ changed: false, name: null });
    const h = unitHost({ ActiveState: 'inactive' });
    const r = await runTask(systemd, { name: 'nginx', state: 'started', daemon_reload: true, daemon_reexec: true }, h);
    expect(h.cmds('exec')).toEqual(['systemctl daemon-reexec', 'systemctl daemon-reload', 'systemctl start -- nginx']);
    expect(r.changed).toBe(true);
    const same = unitHost({});
    expect((await runTask(systemd, { name: 'nginx', state: 'started', daemon_reload: true }, same)).changed).toBe(false);
    expect(same.cmds('exec')).toEqual(['systemctl daemon-reload']);
  });

  test('drift with scope user, no_block and force: exact commands', async () => {
    const h = unitHost({ ActiveState: 'inactive', UnitFileState: 'disabled' });
    await runTask(systemd, { unit: 'syncthing', scope: 'user', state: 'started', enabled: true, no_block: true, force: true }, h);
    expect(h.cmds('query')[0]).toBe(`${USER} show -p ${PROPS} -- syncthing`);
    expect(h.cmds('exec')).toEqual([`${USER} --force enable -- syncthing`, `${USER} --no-block start -- syncthing`]);
  });

  test('scope global reads and sets only the unit file state', async () => {
    const h = new FakeHost().onQuery(/systemctl --global is-enabled -- foo/, { stdout: 'LoadState=loaded\nUnitFileState=disabled\nActiveState=inactive\n' }).onExec(/./, {});
    await runTask(systemd, { name: 'foo', scope: 'global', enabled: true }, h);
    expect(h.cmds('exec')).toEqual(['systemctl --global enable -- foo']);
    await expect(runTask(systemd, { name: 'foo', scope: 'global', state: 'started' }, h)).rejects.toThrow('scope global has no running manager');
  });

  test('bad arguments', async () => {
    expect(validate(systemd, { name: '-x', state: 'started' }).valid).toBe(false);
    expect(validate(systemd, { name: 'x', scope: 'session' }).valid).toBe(false);
    expect(validate(systemd, { name: 'x', state: 'running' }).valid).toBe(false);
    const h = new FakeHost();
    await expect(runTask(systemd, { state: 'started' }, h)).rejects.toThrow('systemd: state, enabled and masked need name');
    await expect(runTask(systemd, {}, h)).rejects.toThrow('systemd: give one of state, enabled, masked, daemon_reload, daemon_reexec');
    await expect(runTask(systemd, { name: 'getty@*', state: 'started' }, h)).rejects.toThrow('glob patterns are not supported');
    expect(h.calls).toEqual([]);
  });
});

describe('service: the init-script arguments roles pass', () => {
  test('sleep, pattern, arguments/args, runlevel are accepted, ignored with systemd, and named', async () => {
    const h = unitHost({});
    const r = await runTask(service, { name: 'nginx', state: 'started', sleep: 3, pattern: 'nginx', args: '-q', runlevel: 'default' }, h);
    expect(r.changed).toBe(false);
    expect(r.result.msg).toBe('ignored with systemd: sleep, pattern, args, runlevel');
    expect(h.cmds('exec')).toEqual([]);
    expect(validate(service, { name: 'x', sleep: -1 }).valid).toBe(false);
  });
});
