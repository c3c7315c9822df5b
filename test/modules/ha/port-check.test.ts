import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import portCheck, { parseProbes, probeScript } from '../../../modules/port-check';
import { ModuleFailure } from '../../../runner/module-api';
import { ArgvRecorder, FakeHost, HOSTILE, LocalHost, readOnly, runTask, validate } from './fake';

const VARS = {
  groups: { db: ['db1', 'db2', 'db3'], all: ['db1', 'db2', 'db3'] },
  hostvars: { db1: { ansible_host: '198.18.0.11' }, db2: { ansible_host: '198.18.0.12' }, db3: {} },
};

/** Answers the probe script: sockets listening, and one outcome per probe index. */
function host(listen: number[], outcomes: string[] = []): FakeHost {
  const out = [...listen.map((p) => `listen ${p.toString(16).toUpperCase().padStart(4, '0')}`), ...outcomes.map((o, i) => `probe ${i} ${o}`)].join('\n');
  return new FakeHost().onQuery(/./, { stdout: out + '\n' });
}

describe('port-check (fake host)', () => {
  test('all good: one remote command, no change, full table in the result', async () => {
    const h = host([5432, 8008], ['open', 'open']);
    const r = await runTask(portCheck, { listening: [5432, 8008], free: [5000], reach: [{ host: '198.18.0.12', port: 2379 }, { host: 'db3', port: 2380 }] }, h);
    expect(r.changed).toBe(false);
    expect(h.calls).toHaveLength(1);
    expect(r.result.checks).toEqual([
      { from: 'db1', to: 'db1:5432', expected: 'listening', got: 'listening', ok: true },
      { from: 'db1', to: 'db1:8008', expected: 'listening', got: 'listening', ok: true },
      { from: 'db1', to: 'db1:5000', expected: 'free', got: 'free', ok: true },
      { from: 'db1', to: '198.18.0.12:2379', expected: 'open', got: 'open', ok: true },
      { from: 'db1', to: 'db3:2380', expected: 'open', got: 'open', ok: true },
    ]);
    expect(r.result.msg).toBe('5 checks passed');
  });

  test('reach_group: every other host of the group, by ansible_host else name, all in parallel', async () => {
    const h = host([], ['open', 'open', 'open', 'open']);
    const r = await runTask(portCheck, { reach_group: { group: 'db', ports: [5432, 8008] } }, h, { vars: VARS });
    const script = h.cmds('query')[0];
    expect(script).toBe(probeScript([
      { address: '198.18.0.12', port: 5432 },
      { address: '198.18.0.12', port: 8008 },
      { address: 'db3', port: 5432 },
      { address: 'db3', port: 8008 },
    ], 1500, false));
    expect(script.split('\n').filter((l) => l.startsWith('probe '))).toEqual([
      'probe 198.18.0.12 5432 1.500 0 &',
      'probe 198.18.0.12 8008 1.500 1 &',
      'probe db3 5432 1.500 2 &',
      'probe db3 8008 1.500 3 &',
    ]);
    expect(script).not.toContain('/proc/net/tcp');
    expect((r.result.checks as Array<{ to: string }>).map((c) => c.to)).toEqual(['db2 (198.18.0.12):5432', 'db2 (198.18.0.12):8008', 'db3:5432', 'db3:8008']);
  });

  test('failures: ONE table of every failing pair, and the full table as data', async () => {
    const h = host([5000], ['open', 'refused Connection refused', 'timeout', 'unreachable No route to host']);
    const err = (await runTask(portCheck, { listening: [5432], free: [5000], reach_group: { group: 'db', ports: [5432, 8008] } }, h, { vars: VARS }).catch((e: unknown) => e)) as ModuleFailure;
    expect(err).toBeInstanceOf(ModuleFailure);
    expect(err.message).toBe(
      [
        'port-check failed on db1: 5 of 6 checks',
        'FROM  TO                      EXPECTED   GOT',
        'db1   db1:5432                listening  not listening',
        'db1   db1:5000                free       in use (listening)',
        'db1   db2 (198.18.0.12):8008  open       refused',
        'db1   db3:5432                open       filtered (timeout)',
        'db1   db3:8008                open       unreachable (No route to host)',
      ].join('\n'),
    );
    expect(err.result.checks).toHaveLength(6);
    expect(err.result.failed_checks).toBe(5);
  });

  test('firewall mode: refused passes (path open), timeout and ICMP reject fail', async () => {
    const h = host([], ['refused Connection refused', 'open', 'timeout', 'unreachable No route to host']);
    const err = (await runTask(portCheck, { mode: 'firewall', reach: [1, 2, 3, 4].map((i) => ({ host: `198.18.0.${i}`, port: 22 })) }, h).catch((e: unknown) => e)) as ModuleFailure;
    const rows = err.result.checks as Array<{ ok: boolean; expected: string }>;
    expect(rows.map((c) => c.ok)).toEqual([true, true, false, false]);
    expect(rows[0].expected).toBe('open or refused');
  });

  test('an unknown group fails clearly; this host alone in its group means nothing to probe', async () => {
    await expect(runTask(portCheck, { reach_group: { group: 'nope', ports: [1] } }, host([]), { vars: VARS })).rejects.toThrow('group nope is not in the inventory');
    const h = new FakeHost();
    const r = await runTask(portCheck, { reach_group: { group: 'solo', ports: [1] } }, h, { vars: { groups: { solo: ['db1'] } } });
    expect(h.calls).toEqual([]);
    expect(r.result.checks).toEqual([]);
  });

  test('check mode: the same read-only probe, nothing mutating', async () => {
    const h = host([5432], []);
    const ro = readOnly(h);
    const r = await runTask(portCheck, { listening: [5432] }, ro, { check: true });
    expect(r.changed).toBe(false);
    expect(ro.violations).toEqual([]);
  });

  test('bad arguments', () => {
    expect(validate(portCheck, {}).valid).toBe(false);
    expect(validate(portCheck, { listening: [70000] }).valid).toBe(false);
    expect(validate(portCheck, { listening: ['pg'] }).valid).toBe(false);
    // a number given as text (a rendered template) is the number, as the engine's ajv coerces it
    expect(validate(portCheck, { listening: ['5432'] }).args.listening).toEqual([5432]);
    expect(validate(portCheck, { reach: [{ host: 'x' }] }).valid).toBe(false);
    expect(validate(portCheck, { reach_group: { group: 'db' } }).valid).toBe(false);
    expect(validate(portCheck, { free: [1], mode: 'ping' }).valid).toBe(false);
    expect(validate(portCheck, { free: [1] }).args).toMatchObject({ mode: 'connect', timeout_ms: 1500 });
  });

  test('hostile host names reach bash only as positional arguments', async () => {
    // timeout is stubbed: it records its argv and answers "refused", so no name is ever resolved
    const rec = new ArgvRecorder({ timeout: 'echo "probe: connect: Connection refused" >&2; exit 1' });
    try {
      const script = probeScript(HOSTILE.map((address, i) => ({ address, port: 1000 + i })), 500, false);
      const r = await rec.run(script);
      expect(r.rc).toBe(0);
      const { probes } = parseProbes(r.stdout);
      expect([...probes.values()].map((p) => p.outcome)).toEqual(HOSTILE.map(() => 'refused'));
      const argv = rec.records().map((a) => [a[5], a[6], a[7]]);
      // argv: timeout 0.500 bash -c SCRIPT probe HOST PORT
      expect(argv.sort()).toEqual(HOSTILE.map((h, i) => ['probe', h, String(1000 + i)]).sort());
      expect(fs.existsSync('/tmp/pwned')).toBe(false);
    } finally {
      rec.cleanup();
    }
  });
});

describe('port-check (real probes from /bin/sh on this machine)', () => {
  let server: net.Server;
  let openPort: number;
  let closedPort: number;
  let py: ChildProcess | undefined;
  const fillers: net.Socket[] = [];

  beforeAll(async () => {
    server = net.createServer((s) => s.destroy());
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    openPort = (server.address() as net.AddressInfo).port;
    const tmp = net.createServer();
    await new Promise<void>((res) => tmp.listen(0, '127.0.0.1', res));
    closedPort = (tmp.address() as net.AddressInfo).port;
    await new Promise<void>((res) => tmp.close(() => res()));
  });
  afterAll(async () => {
    for (const s of fillers) s.destroy();
    if (py?.pid) process.kill(py.pid);
    await new Promise<void>((res) => server.close(() => res()));
  });

  test('listening and free, from /proc/net/tcp', async () => {
    const r = await runTask(portCheck, { listening: [openPort], free: [closedPort] }, new LocalHost());
    expect((r.result.checks as Array<{ ok: boolean }>).every((c) => c.ok)).toBe(true);
    await expect(runTask(portCheck, { listening: [closedPort] }, new LocalHost())).rejects.toThrow(`db1:${closedPort}  listening  not listening`);
    await expect(runTask(portCheck, { free: [openPort] }, new LocalHost())).rejects.toThrow('in use (listening)');
  });

  test('open, refused, and a filtered port (accept queue full: SYNs dropped) as timeout, in parallel', async () => {
    // a listener that never accepts, with its backlog filled: the kernel drops further SYNs
    py = spawn('python3', ['-c', "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(120)"]);
    const filtered = await new Promise<number>((res) => py!.stdout!.once('data', (d: Buffer) => res(Number(d.toString().trim()))));
    for (let i = 0; i < 3; i++) {
      const s = net.connect(filtered, '127.0.0.1');
      s.on('error', () => undefined);
      fillers.push(s);
    }
    await new Promise((res) => setTimeout(res, 300));

    const reach = [
      { host: '127.0.0.1', port: openPort },
      { host: '127.0.0.1', port: closedPort },
      { host: '127.0.0.1', port: filtered },
    ];
    const t = Date.now();
    const err = (await runTask(portCheck, { reach, timeout_ms: 800 }, new LocalHost()).catch((e: unknown) => e)) as ModuleFailure;
    const ms = Date.now() - t;
    expect(err).toBeInstanceOf(ModuleFailure);
    expect((err.result.checks as Array<{ got: string }>).map((c) => c.got)).toEqual(['open', 'refused', 'filtered (timeout)']);
    // parallel: about one timeout, not the sum
    expect(ms).toBeLessThan(1600);

    const fw = (await runTask(portCheck, { reach, timeout_ms: 800, mode: 'firewall' }, new LocalHost()).catch((e: unknown) => e)) as ModuleFailure;
    expect((fw.result.checks as Array<{ ok: boolean }>).map((c) => c.ok)).toEqual([true, true, false]);
    process.stdout.write(`port-check: 3 real probes (open, refused, timeout at 800 ms) in ${ms} ms\n`);
  }, 20000);

  test('twenty probes in one command take about one timeout', async () => {
    const reach = Array.from({ length: 20 }, (_, i) => ({ host: '127.0.0.1', port: i % 2 ? openPort : closedPort }));
    const t = Date.now();
    const r = await runTask(portCheck, { reach, mode: 'firewall' }, new LocalHost());
    process.stdout.write(`port-check: 20 real probes in ${Date.now() - t} ms\n`);
    expect((r.result.checks as unknown[]).length).toBe(20);
  });
});
