import service, { journalCommand } from '../../../modules/service';
import { ModuleFailure, type Plan, type Remote } from '../../../runner/module-api';
import { argsOf, ArgvRecorder, FakeHost, HOSTILE, makeCtx, readOnly, runTask, validate } from './fake';

const SHOW = 'systemctl show -p Id,LoadState,ActiveState,SubState,UnitFileState,NeedDaemonReload,CanReload,MainPID,FragmentPath,Description -- ';

function show(over: Record<string, string> = {}): string {
  const s: Record<string, string> = {
    Id: 'nginx.service',
    LoadState: 'loaded',
    ActiveState: 'active',
    SubState: 'running',
    UnitFileState: 'enabled',
    NeedDaemonReload: 'no',
    CanReload: 'yes',
    MainPID: '123',
    FragmentPath: '/lib/systemd/system/nginx.service',
    Description: 'A high performance web server',
    ...over,
  };
  return Object.entries(s).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}

/** A host whose unit state changes as the module runs systemctl, like the real thing. */
function unitHost(initial: Record<string, string>): FakeHost & { state: Record<string, string> } {
  const h = new FakeHost() as FakeHost & { state: Record<string, string> };
  h.state = { ...initial };
  h.onQuery((c) => c.startsWith(SHOW), () => ({ stdout: show(h.state) }));
  h.onExec(/^systemctl (start|restart) /, () => ((h.state.ActiveState = 'active'), {}));
  h.onExec(/^systemctl stop /, () => ((h.state.ActiveState = 'inactive'), {}));
  h.onExec(/^systemctl reload /, () => ({}));
  h.onExec(/^systemctl enable /, () => ((h.state.UnitFileState = 'enabled'), {}));
  h.onExec(/^systemctl disable /, () => ((h.state.UnitFileState = 'disabled'), {}));
  h.onExec(/^systemctl mask /, () => ((h.state.UnitFileState = 'masked'), {}));
  h.onExec(/^systemctl unmask /, () => ((h.state.UnitFileState = 'disabled'), {}));
  h.onExec('systemctl daemon-reload', () => ((h.state.NeedDaemonReload = 'no'), {}));
  return h;
}

describe('service', () => {
  test('no change: running and enabled as asked, one query', async () => {
    const h = unitHost({});
    const r = await runTask(service, { name: 'nginx', state: 'started', enabled: true }, h);
    expect(r.changed).toBe(false);
    expect(h.calls).toEqual([{ kind: 'query', cmd: SHOW + 'nginx', opts: undefined }]);
    expect(r.result).toMatchObject({ name: 'nginx', state: 'started', enabled: true, status: { ActiveState: 'active', UnitFileState: 'enabled' } });
  });

  test('idempotent for stopped/disabled and for masked', async () => {
    for (const [args, st] of [
      [{ state: 'stopped', enabled: false }, { ActiveState: 'inactive', UnitFileState: 'disabled' }],
      [{ state: 'stopped' }, { ActiveState: 'failed', UnitFileState: 'enabled' }],
      [{ masked: true, state: 'stopped' }, { ActiveState: 'inactive', UnitFileState: 'masked', LoadState: 'masked' }],
      [{ enabled: true }, { UnitFileState: 'static' }],
    ] as const) {
      const h = unitHost(st);
      const r = await runTask(service, { name: 'nginx', ...args }, h);
      expect([args, r.plan.changes]).toEqual([args, []]);
    }
  });

  test('drift: stopped and disabled -> enable then start, exact commands, result after', async () => {
    const h = unitHost({ ActiveState: 'inactive', SubState: 'dead', UnitFileState: 'disabled' });
    const r = await runTask(service, { name: 'nginx', state: 'started', enabled: true }, h);
    expect(r.plan.changes.map((c) => (c.kind === 'exec' ? [c.summary, c.command] : c.kind))).toEqual([
      ['enable nginx', 'systemctl enable -- nginx'],
      ['start nginx', 'systemctl start -- nginx'],
    ]);
    expect(h.cmds('exec')).toEqual(['systemctl enable -- nginx', 'systemctl start -- nginx']);
    expect(r.changed).toBe(true);
    expect(r.result).toMatchObject({ state: 'started', enabled: true, status: { ActiveState: 'active' } });
    // and a second run is a no-op
    const again = await runTask(service, { name: 'nginx', state: 'started', enabled: true }, h);
    expect(again.changed).toBe(false);
  });

  test('drift: nginx on the slave must be stopped and disabled', async () => {
    const h = unitHost({});
    const r = await runTask(service, { name: 'nginx', state: 'stopped', enabled: false }, h);
    expect(h.cmds('exec')).toEqual(['systemctl disable -- nginx', 'systemctl stop -- nginx']);
    expect(r.plan.changes.map((c) => (c.kind === 'exec' ? c.summary : ''))).toEqual(['disable nginx', 'stop nginx']);
    const d = r.plan.changes[1].kind === 'exec' ? r.plan.changes[1].diff : undefined;
    expect(d).toEqual({ path: 'unit nginx', before: 'state: active\n', after: 'state: inactive\n' });
  });

  test('mask: stop first, then mask; unmask comes first', async () => {
    const h = unitHost({});
    await runTask(service, { name: 'nginx', state: 'stopped', masked: true }, h);
    expect(h.cmds('exec')).toEqual(['systemctl stop -- nginx', 'systemctl mask -- nginx']);
    const h2 = unitHost({ UnitFileState: 'masked', ActiveState: 'inactive' });
    await runTask(service, { name: 'nginx', masked: false, state: 'started', enabled: true }, h2);
    expect(h2.cmds('exec')).toEqual(['systemctl unmask -- nginx', 'systemctl enable -- nginx', 'systemctl start -- nginx']);
  });

  test('restarted and reloaded always change; reloaded starts a stopped unit', async () => {
    const h = unitHost({});
    expect((await runTask(service, { name: 'nginx', state: 'restarted' }, h)).changed).toBe(true);
    expect((await runTask(service, { name: 'nginx', state: 'reloaded' }, h)).changed).toBe(true);
    expect(h.cmds('exec')).toEqual(['systemctl restart -- nginx', 'systemctl reload -- nginx']);
    const h2 = unitHost({ ActiveState: 'inactive' });
    await runTask(service, { name: 'nginx', state: 'reloaded' }, h2);
    expect(h2.cmds('exec')).toEqual(['systemctl start -- nginx']);
  });

  test('failures from plan: not found, cannot reload, contradictions, static disable, no systemd', async () => {
    const nf = unitHost({ LoadState: 'not-found', ActiveState: 'inactive', UnitFileState: '' });
    await expect(runTask(service, { name: 'nope', state: 'started' }, nf)).rejects.toThrow(new ModuleFailure('unit nope does not exist'));
    await expect(runTask(service, { name: 'nginx', state: 'reloaded' }, unitHost({ CanReload: 'no' }))).rejects.toThrow('cannot reload (CanReload=no)');
    await expect(runTask(service, { name: 'nginx', state: 'started', masked: true }, unitHost({}))).rejects.toThrow('masked: true contradicts state: started');
    await expect(runTask(service, { name: 'nginx', enabled: false }, unitHost({ UnitFileState: 'static' }))).rejects.toThrow('is static: it cannot be disabled');
    const nosd = new FakeHost().onQuery(/^systemctl show/, { rc: 1, stderr: 'System has not been booted with systemd as init system (PID 1). Can\'t operate.\nFailed to connect to bus: Host is down\n' });
    await expect(runTask(service, { name: 'nginx', state: 'started' }, nosd)).rejects.toThrow(/cannot query unit nginx: .*Failed to connect to bus/s);
    const nobin = new FakeHost().onQuery(/^systemctl show/, { rc: 127, stderr: 'sh: systemctl: not found' });
    await expect(runTask(service, { name: 'nginx' }, nobin)).rejects.toThrow('systemctl not found');
  });

  test('a unit that fails to start fails the task with the last journal lines', async () => {
    const journal = 'Jun 01 patroni[9]: FATAL: config file missing\nJun 01 systemd[1]: patroni.service: Failed with result exit-code.';
    const h = unitHost({ ActiveState: 'inactive', Id: 'patroni.service' });
    h.onExec('systemctl start -- patroni', { rc: 1, stderr: 'Job for patroni.service failed because the control process exited with error code.' });
    h.onQuery('journalctl -u patroni -n 20 --no-pager', { stdout: journal + '\n' });
    const err = await runTask(service, { name: 'patroni', state: 'started' }, h).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModuleFailure);
    expect((err as ModuleFailure).message).toContain('start patroni failed (rc=1)');
    expect((err as ModuleFailure).message).toContain('FATAL: config file missing');
    expect((err as ModuleFailure).result.journal).toBe(journal);
  });

  test('a unit that dies right after a successful start also fails with its journal', async () => {
    const h = unitHost({ ActiveState: 'inactive' });
    h.onExec('systemctl start -- nginx', () => ((h.state.ActiveState = 'failed'), {}));
    h.onQuery('journalctl -u nginx', { stdout: 'nginx: [emerg] bind() to 0.0.0.0:80 failed\n' });
    await expect(runTask(service, { name: 'nginx', state: 'started' }, h)).rejects.toThrow(/nginx is failed after start:\nnginx: \[emerg\] bind/);
  });

  test('the journal shown is the latest run of the unit only (its invocation id), else the unit\'s last lines', async () => {
    // found on the lab: `journalctl -u nginx -n 20` after a failed start also showed the earlier
    // "Started"/"Stopped" lines of the unit, as if they belonged to this failure
    const journalctl = [
      'for a in "$@"; do case $a in',
      '  _SYSTEMD_INVOCATION_ID=run2) echo "nginx[9]: [emerg] unknown directive"; echo "systemd[1]: Failed to start nginx.service"; exit 0 ;;',
      '  _SYSTEMD_INVOCATION_ID=*) exit 0 ;;',
      'esac; done',
      'echo "systemd[1]: Started nginx.service"; echo "systemd[1]: Stopped nginx.service"',
    ].join('\n');
    for (const [id, want] of [
      ['run2', 'nginx[9]: [emerg] unknown directive\nsystemd[1]: Failed to start nginx.service'],
      // no run recorded (or no entries for it): the unit's last lines
      ['', 'systemd[1]: Started nginx.service\nsystemd[1]: Stopped nginx.service'],
      ['gone', 'systemd[1]: Started nginx.service\nsystemd[1]: Stopped nginx.service'],
    ]) {
      const rec = new ArgvRecorder({ systemctl: `echo '${id}'`, journalctl });
      try {
        const r = await rec.run(journalCommand('nginx'));
        expect(r.stdout.trimEnd()).toBe(want);
        const calls = rec.records();
        expect(calls[0]).toEqual(['systemctl', 'show', '-p', 'InvocationID', '--value', '--', 'nginx']);
        if (id) expect(calls[1]).toEqual(['journalctl', '-q', '--no-pager', '-n', '20', `_SYSTEMD_INVOCATION_ID=${id}`, '+', `INVOCATION_ID=${id}`]);
        if (id !== 'run2') expect(calls[calls.length - 1]).toEqual(['journalctl', '-u', 'nginx', '-n', '20', '--no-pager']);
      } finally {
        rec.cleanup();
      }
    }
    // a hostile unit name reaches systemctl and journalctl as one word
    const rec = new ArgvRecorder({ systemctl: 'echo', journalctl: 'exit 0' });
    try {
      for (const bad of HOSTILE) expect((await rec.run(journalCommand(bad))).rc).toBe(0);
      const calls = rec.records();
      HOSTILE.forEach((bad, i) => {
        expect(calls[i * 2].slice(-1)).toEqual([bad]);
        expect(calls[i * 2 + 1]).toEqual(['journalctl', '-u', bad, '-n', '20', '--no-pager']);
      });
    } finally {
      rec.cleanup();
    }
  });

  test('daemon_reload: only when systemd needs it; the rest is planned again after it', async () => {
    const h = unitHost({ NeedDaemonReload: 'yes' });
    const r = await runTask(service, { name: 'nginx', state: 'started', daemon_reload: true }, h);
    expect(h.cmds('exec')).toEqual(['systemctl daemon-reload']);
    expect(r.changed).toBe(true);
    // without NeedDaemonReload nothing happens
    const again = await runTask(service, { name: 'nginx', state: 'started', daemon_reload: true }, h);
    expect(again.changed).toBe(false);
    // a unit only on disk: reload, then it exists and is started
    const fresh = unitHost({ LoadState: 'not-found', ActiveState: 'inactive', UnitFileState: '' });
    fresh.onExec('systemctl daemon-reload', () => ((fresh.state.LoadState = 'loaded'), (fresh.state.UnitFileState = 'disabled'), {}));
    const f = await runTask(service, { name: 'nginx', state: 'started', enabled: true, daemon_reload: true }, fresh);
    expect(fresh.cmds('exec')).toEqual(['systemctl daemon-reload', 'systemctl enable -- nginx', 'systemctl start -- nginx']);
    expect(f.result.msg).toBeUndefined();
  });

  test('apply acts on the planned op, not on display text: reworded summaries and commands change nothing', async () => {
    // every summary reworded and every command spelled differently (systemctl --quiet): what
    // apply does must follow the ops the plan carries, as it would after a wording change
    const reword = (plan: Plan): Plan => ({
      ...plan,
      changes: plan.changes.map((c, i) => (c.kind === 'exec' ? { ...c, summary: `step ${i + 1}`, command: c.command.replace(/^systemctl /, 'systemctl --quiet ') } : c)),
    });
    const quiet = <H extends FakeHost>(h: H): H => {
      const exec = h.exec.bind(h);
      h.exec = (cmd, opts) => exec(cmd.replace(/^systemctl --quiet /, 'systemctl '), opts);
      return h;
    };
    const applyReworded = async (h: FakeHost, args: Record<string, unknown>): Promise<Record<string, unknown>> => {
      const a = argsOf(service, args);
      const plan = reword(await service.plan(a, makeCtx(h)));
      return (await service.apply!(a, plan, makeCtx<Remote>(h))) ?? {};
    };

    // daemon-reload is found by its op and the rest is planned again after it: the unit turns
    // out enabled (a vendor preset), so the planned `enable` is dropped
    const fresh = quiet(unitHost({ LoadState: 'not-found', ActiveState: 'inactive', UnitFileState: '' }));
    fresh.onExec('systemctl daemon-reload', () => ((fresh.state.LoadState = 'loaded'), (fresh.state.UnitFileState = 'enabled'), {}));
    await applyReworded(fresh, { name: 'nginx', state: 'started', enabled: true, daemon_reload: true });
    expect(fresh.cmds('exec')).toEqual(['systemctl daemon-reload', 'systemctl start -- nginx']);

    // a failed start still shows the journal
    const h = quiet(unitHost({ ActiveState: 'inactive' }));
    h.onExec('systemctl start -- nginx', { rc: 1, stderr: 'Job for nginx.service failed.' });
    h.onQuery('journalctl -u nginx', { stdout: 'nginx: [emerg] unknown directive\n' });
    await expect(applyReworded(h, { name: 'nginx', state: 'started' })).rejects.toThrow(/step 1 failed \(rc=1\): Job for nginx.service failed.\nnginx: \[emerg\] unknown directive/);

    // and a unit that dies right after its start is caught
    const dies = quiet(unitHost({ ActiveState: 'inactive' }));
    dies.onExec('systemctl start -- nginx', () => ((dies.state.ActiveState = 'failed'), {}));
    dies.onQuery('journalctl -u nginx', { stdout: 'bind() failed\n' });
    await expect(applyReworded(dies, { name: 'nginx', state: 'started' })).rejects.toThrow(/nginx is failed after start:\nbind\(\) failed/);
  });

  test('apply refuses a plan whose changes carry no op (it never guesses from the text)', async () => {
    const h = unitHost({ ActiveState: 'inactive' });
    const a = argsOf(service, { name: 'nginx', state: 'started' });
    const plan: Plan = { changes: [{ kind: 'exec', summary: 'start nginx', command: 'systemctl start -- nginx' }] };
    await expect(service.apply!(a, plan, makeCtx<Remote>(h))).rejects.toThrow(/carries no op/);
    expect(h.mutations()).toEqual([]);
  });

  test('daemon_reload after an unmask: the reload runs (it was skipped when not first) and the rest is planned again', async () => {
    const h = unitHost({ UnitFileState: 'masked', LoadState: 'masked', ActiveState: 'inactive', NeedDaemonReload: 'yes' });
    h.onExec(/^systemctl unmask /, () => ((h.state.UnitFileState = 'disabled'), (h.state.LoadState = 'loaded'), {}));
    const r = await runTask(service, { name: 'nginx', masked: false, state: 'started', daemon_reload: true }, h);
    expect(r.plan.changes.map((c) => (c.kind === 'exec' ? c.command : ''))).toEqual(['systemctl unmask -- nginx', 'systemctl daemon-reload', 'systemctl start -- nginx']);
    expect(h.cmds('exec')).toEqual(['systemctl unmask -- nginx', 'systemctl daemon-reload', 'systemctl start -- nginx']);
    expect(h.state.NeedDaemonReload).toBe('no');
  });

  test('check mode: reports the changes, never mutates; a missing unit is assumed', async () => {
    const h = unitHost({ ActiveState: 'inactive', UnitFileState: 'disabled' });
    const ro = readOnly(h);
    const r = await runTask(service, { name: 'nginx', state: 'started', enabled: true, daemon_reload: true }, ro, { check: true });
    expect(r.changed).toBe(true);
    expect(r.plan.changes.map((c) => (c.kind === 'exec' ? c.summary : ''))).toEqual(['enable nginx', 'start nginx']);
    expect(ro.violations).toEqual([]);
    expect(h.mutations()).toEqual([]);

    const nf = unitHost({ LoadState: 'not-found', ActiveState: 'inactive', UnitFileState: '' });
    const ro2 = readOnly(nf);
    const r2 = await runTask(service, { name: 'patroni', state: 'started' }, ro2, { check: true });
    expect(r2.plan.changes.map((c) => (c.kind === 'exec' ? c.summary : ''))).toEqual(['start patroni']);
    expect(r2.result.msg).toMatch(/unit patroni does not exist now; assuming an earlier task creates it/);
    expect(ro2.violations).toEqual([]);
  });

  test('bad arguments are refused by the schema', () => {
    expect(validate(service, {}).valid).toBe(false);
    expect(validate(service, { name: 'x', state: 'running' }).errors.join()).toMatch(/state: must be one of: started, stopped/);
    expect(validate(service, { name: 'x', enable: true }).valid).toBe(false);
    expect(validate(service, { name: 'x', enabled: 'maybe' }).valid).toBe(false);
    expect(validate(service, { name: '' }).valid).toBe(false);
    expect(argsOf(service, { name: 'x' }).daemon_reload).toBe(false);
  });

  test('hostile unit names reach systemctl as one literal argument', async () => {
    const rec = new ArgvRecorder({ systemctl: '' });
    try {
      for (const bad of HOSTILE) {
        const h = unitHost({ ActiveState: 'inactive', UnitFileState: 'disabled' });
        await runTask(service, { name: bad, state: 'started', enabled: true }, h);
        for (const cmd of h.calls.map((c) => c.cmd as string)) {
          const r = await rec.run(cmd);
          expect(r.rc).toBe(0);
        }
      }
      const argv = rec.records();
      // per name: show, enable, start, show (result after apply)
      expect(argv).toHaveLength(HOSTILE.length * 4);
      HOSTILE.forEach((bad, i) => {
        const [show1, enable, start] = argv.slice(i * 4, i * 4 + 3);
        expect(show1.slice(-2)).toEqual(['--', bad]);
        expect(enable).toEqual(['systemctl', 'enable', '--', bad]);
        expect(start).toEqual(['systemctl', 'start', '--', bad]);
      });
      expect(require('fs').existsSync('/tmp/pwned')).toBe(false);
    } finally {
      rec.cleanup();
    }
  });

  test('plan works with a probe only (no exec, no writeFile on the object)', async () => {
    const h = unitHost({ ActiveState: 'inactive' });
    const probe = { query: h.query.bind(h), readFile: h.readFile.bind(h), stat: h.stat.bind(h) };
    const plan = await service.plan(argsOf(service, { name: 'nginx', state: 'started' }), makeCtx(probe));
    expect(plan.changes).toHaveLength(1);
  });
});
