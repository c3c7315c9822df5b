/**
 * Connection storms (issue 16): a server that sheds connects before the SSH handshake (sshd's
 * MaxStartups closes the socket at once) is retried with backoff within --timeout. The real
 * cases put a fake front server before the private sshd (sshd-fixture.ts): it closes the first
 * connects as sshd does past MaxStartups, then passes the bytes through.
 */

import * as net from 'net';
import { connectWithRetry, isShedBeforeHandshake, ShedError } from '../../../runner/connection/connect-retry';
import { SshConnection } from '../../../runner/connection/ssh';
import { UnreachableError } from '../../../runner/errors';
import { startSshd, Sshd } from './sshd-fixture';

jest.setTimeout(60_000);

const shed = () => new Error('Connection lost before handshake');

describe('connectWithRetry (fake clock)', () => {
  const clock = () => {
    let t = 0;
    const pauses: number[] = [];
    return { now: () => t, sleep: async (ms: number) => void (pauses.push(ms), (t += ms)), pauses, advance: (ms: number) => (t += ms) };
  };

  test('retries shed attempts with growing, jittered pauses and reports how many were dropped', async () => {
    const c = clock();
    const budgets: number[] = [];
    let n = 0;
    const r = await connectWithRetry(
      async (left) => {
        budgets.push(left);
        c.advance(10);
        if (++n <= 4) throw shed();
        return 'client';
      },
      { timeoutMs: 10_000, now: c.now, sleep: c.sleep, random: () => 1 },
    );
    expect(r).toEqual({ value: 'client', drops: 4 });
    expect(c.pauses).toEqual([100, 200, 400, 800]);
    // each attempt gets what is left of the one budget
    expect(budgets).toEqual([10_000, 9890, 9680, 9270, 8460]);
  });

  test('jitter: a pause is half to all of the current delay, capped', async () => {
    const c = clock();
    let n = 0;
    await connectWithRetry(
      async () => {
        if (++n <= 6) throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
        return 1;
      },
      { timeoutMs: 60_000, now: c.now, sleep: c.sleep, random: () => 0, maxDelayMs: 1000 },
    );
    expect(c.pauses).toEqual([50, 100, 200, 400, 500, 500]);
  });

  test('gives up within the budget with the count of drops', async () => {
    const c = clock();
    let attempts = 0;
    const err = await connectWithRetry(
      async () => {
        attempts++;
        c.advance(50);
        throw shed();
      },
      { timeoutMs: 2000, now: c.now, sleep: c.sleep, random: () => 1 },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(ShedError);
    expect(err.drops).toBe(attempts);
    expect(err.elapsedMs).toBeLessThanOrEqual(2000);
    expect(attempts).toBeGreaterThan(2);
  });

  test('any other failure is not retried', async () => {
    let attempts = 0;
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const err = await connectWithRetry(
      async () => {
        attempts++;
        throw refused;
      },
      { timeoutMs: 10_000, sleep: async () => undefined },
    ).catch((e) => e);
    expect(err).toBe(refused);
    expect(attempts).toBe(1);
    expect(isShedBeforeHandshake(new Error('All configured authentication methods failed'))).toBe(false);
    expect(isShedBeforeHandshake(new Error('Timed out while waiting for handshake'))).toBe(false);
  });
});

describe('over SSH, behind a server that drops the first handshakes', () => {
  let sshd: Sshd;
  const servers: net.Server[] = [];
  const conns: SshConnection[] = [];

  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
    for (const s of servers) s.close();
    await sshd?.stop();
  });

  /** A front server: the first `drop` connects are closed at once (as sshd past MaxStartups), later ones reach sshd. */
  const front = async (drop: number): Promise<{ port: number; accepted: () => number }> => {
    let seen = 0;
    const srv = net.createServer((sock) => {
      if (seen++ < drop) return void sock.destroy();
      const up = net.connect(sshd.port, '127.0.0.1');
      sock.pipe(up).pipe(sock);
      const end = () => (sock.destroy(), up.destroy());
      sock.on('error', end);
      up.on('error', end);
      sock.on('close', end);
      up.on('close', end);
    });
    servers.push(srv);
    const port: number = await new Promise((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as net.AddressInfo).port)));
    return { port, accepted: () => seen };
  };
  const connection = (port: number, timeoutMs: number) => {
    // the front server's port is another known_hosts entry for the same key: accept-new records it
    const c = new SshConnection(sshd.spec({ port, timeoutMs }));
    conns.push(c);
    return c;
  };

  test('three dropped handshakes: the fourth gets through and the command runs', async () => {
    const f = await front(3);
    const c = connection(f.port, 10_000);
    const r = await c.exec('echo through');
    expect(r.stdout.toString()).toBe('through\n');
    expect(c.handshakeDrops).toBe(3);
    expect(f.accepted()).toBe(4);
    expect(c.connects).toBe(1);
  });

  test('a server that drops every handshake: unreachable within --timeout, saying what happened', async () => {
    const f = await front(Infinity);
    const c = connection(f.port, 1500);
    const t0 = Date.now();
    const err = await c.exec('true').catch((e) => e);
    const took = Date.now() - t0;
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toMatch(/^sshtest: cannot connect to root@127\.0\.0\.1:\d+: Connection lost before handshake: the server dropped all \d+ attempts before the SSH handshake within \d+\.\d s$/);
    expect(err.hint).toMatch(/MaxStartups/);
    expect(f.accepted()).toBeGreaterThan(2);
    expect(took).toBeLessThan(1500 + 500);
  });
});
