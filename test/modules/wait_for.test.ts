import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import waitFor, { waitCommand, WAIT_SCRIPT } from '../../modules/wait_for';
import { quote } from '../../runner/module-api';
import { FakeRemote, LocalRemote, makeTempDir, runModule, validateArgs } from '../helpers/fake-remote';
import { programShims } from '../helpers/program-shims';
import { LocalHost } from './ha/fake';

describe('wait_for (fake host)', () => {
  it('no change: the condition already holds -> one query, ok', async () => {
    const r = new FakeRemote().onQuery(/^sh -c /, { stdout: 'ok 0\n' });
    const res = await runModule(waitFor, { port: 5432 }, r);
    expect(res).toMatchObject({ changed: false, plan: { result: { elapsed: 0, state: 'started', port: 5432 } } });
    expect(r.roundTrips).toBe(1);
  });

  it('the whole wait is ONE command: the fixed script plus quoted positional values', async () => {
    const r = new FakeRemote().onQuery(() => true, { stdout: 'ok 3\n' });
    await runModule(waitFor, { path: "/var/run/x 'y'", search_regex: 'ready$', timeout: 20, delay: 1 }, r);
    expect(r.calls).toEqual([
      {
        kind: 'query',
        cmd: `sh -c ${quote(WAIT_SCRIPT)} wait_for path-present-re 127.0.0.1 0 '/var/run/x '\\''y'\\''' 'ready$' 20 1 1 5`,
        opts: { timeoutMs: (20 + 1 + 5 + 1 + 30) * 1000 },
      },
    ]);
  });

  it('a timeout fails with a clear message (or msg)', async () => {
    const r = new FakeRemote().onQuery(() => true, { rc: 3, stdout: 'timeout 5\n' });
    await expect(runModule(waitFor, { host: '10.0.0.5', port: 2379, timeout: 5 }, r)).rejects.toMatchObject({
      message: 'Timeout when waiting for 10.0.0.5:2379 (started) after 5 s',
      result: { elapsed: 5 },
    });
    await expect(runModule(waitFor, { path: '/x', state: 'absent', msg: 'still there' }, r)).rejects.toThrow('still there');
  });

  it('a missing tool is reported with the host stderr', async () => {
    const r = new FakeRemote().onQuery(() => true, { rc: 4, stderr: 'wait_for needs bash on the host for port checks\n' });
    await expect(runModule(waitFor, { port: 1 }, r)).rejects.toThrow('wait_for failed (rc=4): wait_for needs bash on the host for port checks');
  });

  it('modes chosen from the arguments', () => {
    const mode = (a: object) => waitCommand(a).split(' wait_for ')[1].split(' ')[0];
    expect(mode({ port: 1 })).toBe('port-open');
    expect(mode({ port: 1, search_regex: 'SSH' })).toBe('port-open-re');
    expect(mode({ port: 1, state: 'stopped' })).toBe('port-closed');
    expect(mode({ port: 1, state: 'drained' })).toBe('drained');
    expect(mode({ path: '/x' })).toBe('path-present');
    expect(mode({ path: '/x', state: 'absent' })).toBe('path-absent');
    expect(mode({ timeout: 3 })).toBe('sleep');
  });

  it('bad arguments', () => {
    expect(validateArgs(waitFor, { port: 0 }).valid).toBe(false);
    expect(validateArgs(waitFor, { port: 70000 }).valid).toBe(false);
    expect(validateArgs(waitFor, { port: 1, path: '/x' }).valid).toBe(false);
    expect(validateArgs(waitFor, { state: 'drained', path: '/x' }).valid).toBe(false);
    expect(validateArgs(waitFor, { search_regex: 'x' }).valid).toBe(false);
    expect(validateArgs(waitFor, { port: 1, timeout: 1.5 }).valid).toBe(false);
    expect(validateArgs(waitFor, { port: 1, state: 'up' }).valid).toBe(false);
    expect(validateArgs(waitFor, { port: 'http' }).valid).toBe(false);
    // a number given as text (a rendered template) is the number, as the engine's ajv coerces it
    expect(validateArgs(waitFor, { port: '80' }).args.port).toBe(80);
  });

  it('check mode: it only queries; Ctrl-C ends the wait without waiting for the host', async () => {
    const r = new FakeRemote().onQuery(() => true, { stdout: 'ok 0\n' });
    await runModule(waitFor, { port: 1 }, r, { check: true });
    expect(r.mutations).toBe(0);
    const slow = new FakeRemote();
    slow.query = () => new Promise(() => undefined);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    await expect(runModule(waitFor, { port: 1 }, slow, { signal: ac.signal })).rejects.toThrow('wait_for interrupted');
  });
});

describe('wait_for (real /bin/sh and sockets on 127.0.0.1)', () => {
  const remote = new LocalRemote();
  let server: net.Server;
  let port: number;
  let closedPort: number;
  let dir: string;
  beforeAll(async () => {
    dir = makeTempDir();
    server = net.createServer((s) => {
      // a probe that only connects closes at once: the reset is expected, not a test error
      s.on('error', () => undefined);
      s.end('SSH-2.0-fake\r\n');
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    port = (server.address() as net.AddressInfo).port;
    // a port that was just free: refused
    const tmp = net.createServer();
    await new Promise<void>((res) => tmp.listen(0, '127.0.0.1', res));
    closedPort = (tmp.address() as net.AddressInfo).port;
    await new Promise<void>((res) => tmp.close(() => res()));
  });
  afterAll(async () => {
    await new Promise<void>((res) => server.close(() => res()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('an open port, with and without a banner regexp', async () => {
    // elapsed is whole seconds of the host clock: a second boundary may fall inside the probe
    const open = await runModule(waitFor, { port, timeout: 5 }, remote);
    expect(open.plan.result!.elapsed).toBeLessThanOrEqual(1);
    expect((await runModule(waitFor, { port, search_regex: '^SSH-2\\.0', timeout: 5 }, remote)).changed).toBe(false);
    await expect(runModule(waitFor, { port, search_regex: 'nginx', timeout: 1, connect_timeout: 1 }, remote)).rejects.toThrow(/Timeout/);
  });

  it('a closed port: started times out, stopped passes; drained passes with no connections', async () => {
    const t0 = Date.now();
    await expect(runModule(waitFor, { port: closedPort, timeout: 1, sleep: 0.2 }, remote)).rejects.toThrow(
      `Timeout when waiting for 127.0.0.1:${closedPort} (started) after 1 s`,
    );
    expect(Date.now() - t0).toBeLessThan(4000);
    expect((await runModule(waitFor, { port: closedPort, state: 'stopped', timeout: 2 }, remote)).changed).toBe(false);
    expect((await runModule(waitFor, { port: closedPort, state: 'drained', timeout: 2 }, remote)).changed).toBe(false);
  });

  it('drained waits while a connection is established on the port', async () => {
    const sock = net.connect(port, '127.0.0.1').on('error', () => undefined);
    const held = net.createServer();
    await new Promise<void>((res) => held.listen(0, '127.0.0.1', res));
    const heldPort = (held.address() as net.AddressInfo).port;
    const client = net.connect(heldPort, '127.0.0.1').on('error', () => undefined);
    await new Promise<void>((res) => client.on('connect', () => res()));
    try {
      await expect(runModule(waitFor, { port: heldPort, state: 'drained', timeout: 1, sleep: 0.2 }, remote)).rejects.toThrow(/Timeout/);
    } finally {
      client.destroy();
      sock.destroy();
      await new Promise<void>((res) => held.close(() => res()));
    }
  });

  it('a hostile path appearing during the wait, with content matching', async () => {
    const f = path.join(dir, "log 'x' $(touch PWNED) `y`\nü");
    setTimeout(() => fs.writeFileSync(f, 'starting\ndatabase system is ready to accept connections\n'), 400);
    const res = await runModule(waitFor, { path: f, search_regex: 'ready to accept', timeout: 5, sleep: 0.1 }, remote);
    expect(res.changed).toBe(false);
    expect(fs.readdirSync(dir)).toEqual([path.basename(f)]);
    setTimeout(() => fs.rmSync(f), 300);
    expect((await runModule(waitFor, { path: f, state: 'absent', timeout: 5, sleep: 0.1 }, remote)).changed).toBe(false);
  });

  it('the timeout is a minimum: a wait never gives up before `timeout` seconds (a stub clock)', async () => {
    // found on the lab: timeout 2 gave up after 1.78 s, since whole seconds of `date +%s` start
    // counting at a second boundary. The stub `date` answers the next instant of a script.
    const clock = async (instants: string[]): Promise<{ rc: number; stdout: string; calls: string[] }> => {
      const dir = makeTempDir();
      try {
        fs.writeFileSync(path.join(dir, 'instants'), instants.join('\n') + '\n');
        fs.writeFileSync(path.join(dir, 'n'), '0\n');
        // (no `date` inside the stub: it would call itself)
        const stub = `#!/bin/sh\nd=${quote(dir)}\nn=$(( $(cat "$d/n") + 1 )); echo "$n" > "$d/n"\nprintf '%s\\n' "$*" >> "$d/calls"\nsed -n "\${n}p" "$d/instants"\n`;
        fs.writeFileSync(path.join(dir, 'date'), stub, { mode: 0o755 });
        const cmd = waitCommand({ path: '/nonexistent/tsplay-wait', timeout: 1, sleep: 0.01 });
        const r = await new LocalHost().run('exec', cmd, { env: { PATH: `${dir}:${process.env.PATH}` }, timeoutMs: 10_000 });
        return { rc: r.rc, stdout: r.stdout, calls: fs.readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n') };
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };
    // GNU date: milliseconds. Start at 100.990 s: 101.000 (10 ms) and 101.500 go on, 101.990 is 1 s
    const gnu = await clock(['100990000000', '100990000000', '101000000000', '101500000000', '101990000000', '999000000000']);
    expect([gnu.rc, gnu.stdout]).toEqual([3, 'timeout 1\n']);
    expect(gnu.calls).toEqual(['+%s%N', '+%s%N', '+%s%N', '+%s%N', '+%s%N']);
    // no %N (busybox prints it as is): whole seconds, so the limit gets one more second
    const bb = await clock(['100%N', '100%N', '100', '101%N', '101', '102%N', '102', '999%N', '999']);
    expect([bb.rc, bb.stdout]).toEqual([3, 'timeout 2\n']);
    expect(bb.calls).toEqual(['+%s%N', '+%s%N', '+%s', '+%s%N', '+%s', '+%s%N', '+%s']);
  });

  it('a condition that already holds is answered without reading any clock (no date forks)', async () => {
    const dir = makeTempDir();
    try {
      const shims = programShims(dir, ['date']);
      const env = { PATH: `${dir}:${process.env.PATH}` };
      const ok = await new LocalHost().run('exec', waitCommand({ path: dir, timeout: 5 }), { env, timeoutMs: 10_000 });
      expect([ok.rc, ok.stdout]).toEqual([0, 'ok 0\n']);
      expect(shims.calls()).toEqual([]);
      // once it has to wait, the clock runs
      setTimeout(() => fs.writeFileSync(path.join(dir, 'later'), ''), 200);
      const later = await new LocalHost().run('exec', waitCommand({ path: path.join(dir, 'later'), timeout: 5, sleep: 0.05 }), { env, timeoutMs: 10_000 });
      expect([later.rc, later.stdout]).toEqual([0, 'ok 0\n']);
      expect(shims.calls().length).toBeGreaterThanOrEqual(3);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('neither port nor path: just waits timeout seconds on the host', async () => {
    const t0 = Date.now();
    await runModule(waitFor, { timeout: 1 }, remote);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
  });
});
