/**
 * Real SSH: a private sshd on 127.0.0.1 (see sshd-fixture.ts), started and killed by PID.
 */

import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { HostKeyError, InterruptedError, UnreachableError } from '../../../runner/errors';
import { fingerprint } from '../../../runner/connection/known-hosts';
import { ConnectionPool } from '../../../runner/connection/pool';
import { createRemote } from '../../../runner/connection/remote';
import { describeConnectError, SshConnection } from '../../../runner/connection/ssh';
import { startSshd, Sshd } from './sshd-fixture';

jest.setTimeout(60_000);

let sshd: Sshd;
const opened: SshConnection[] = [];
const connect = (over: Parameters<Sshd['spec']>[0] = {}, opts = {}): SshConnection => {
  const c = new SshConnection(sshd.spec(over), opts);
  opened.push(c);
  return c;
};
const hostBlob = (): Buffer => Buffer.from(sshd.hostKeyPub.split(' ')[1], 'base64');
const accepted = (): number => (sshd.log().match(/Accepted publickey/g) ?? []).length;

beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await Promise.all(opened.map((c) => c.close().catch(() => undefined)));
  await sshd?.stop();
});

test('exec, readFile, writeFile over one connection; accept-new records the key', async () => {
  const known = path.join(sshd.dir, 'kh-accept', 'known_hosts');
  const conn = connect({ knownHostsFile: known });
  const r = await conn.exec('id -un; printf "no newline"; echo err >&2; exit 5');
  expect(r.rc).toBe(5);
  expect(r.stdout.toString()).toBe('root\nno newline');
  expect(r.stderr.toString()).toBe('err\n');
  const remote = createRemote(conn);
  const data = randomBytes(1024 * 1024 + 3);
  const p = path.join(sshd.dir, "over ssh 'file' $(x)\n");
  await remote.writeFile(p, data, { mode: '0600' });
  expect(fs.readFileSync(p).equals(data)).toBe(true);
  expect((await remote.readFile(p))!.equals(data)).toBe(true);
  for (let i = 0; i < 20; i++) expect((await conn.exec(`echo ${i}`)).stdout.toString()).toBe(`${i}\n`);
  expect(conn.connects).toBe(1);
  expect(conn.sessions).toBe(1);
  const line = fs.readFileSync(known, 'utf8');
  expect(line).toBe(`[sshtest]:${sshd.port},[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n`);
  expect(fs.statSync(known).mode & 0o777).toBe(0o600);
  expect(fs.statSync(path.dirname(known)).mode & 0o777).toBe(0o700);
});

test('a changed host key is refused before authentication, nothing runs', async () => {
  const known = path.join(sshd.dir, 'kh-changed');
  const other = path.join(sshd.dir, 'other');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other], { stdio: 'ignore' });
  const otherPub = fs.readFileSync(`${other}.pub`, 'utf8').split(/\s+/).slice(0, 2).join(' ');
  fs.writeFileSync(known, `# lab\n[127.0.0.1]:${sshd.port} ${otherPub}\n`);
  const before = accepted();
  const marker = path.join(sshd.dir, 'must-not-exist');
  const conn = connect({ knownHostsFile: known });
  const err = await conn.exec(`touch ${marker}`).catch((e) => e);
  expect(err).toBeInstanceOf(HostKeyError);
  expect(err.message).toContain('sshtest: HOST KEY CHANGED');
  expect(err.message).toContain(`expected ssh-ed25519 ${fingerprint(Buffer.from(otherPub.split(' ')[1], 'base64'))} (${known}:2)`);
  expect(err.message).toContain(`offered ssh-ed25519 ${fingerprint(hostBlob())}`);
  expect(fs.existsSync(marker)).toBe(false);
  expect(accepted()).toBe(before);
  // the host stays refused, without new connection attempts
  await expect(conn.exec('true')).rejects.toBe(err);
  expect(fs.readFileSync(known, 'utf8')).toContain(otherPub);
});

test('strict refuses an unknown host; accepts a known one', async () => {
  const known = path.join(sshd.dir, 'kh-strict');
  const err = await connect({ knownHostsFile: known, hostKeyChecking: 'strict' })
    .exec('true')
    .catch((e) => e);
  expect(err).toBeInstanceOf(HostKeyError);
  expect(err.message).toMatch(/not in .*kh-strict and host_key_checking is strict/);
  expect(fs.existsSync(known)).toBe(false);
  // known under the inventory alias only is enough
  fs.writeFileSync(known, `[sshtest]:${sshd.port} ${sshd.hostKeyPub}\n`);
  const r = await connect({ knownHostsFile: known, hostKeyChecking: 'strict' }).exec('echo ok');
  expect(r.stdout.toString()).toBe('ok\n');
});

test('reconnects once after the server drops the connection', async () => {
  const conn = connect();
  expect((await conn.exec('echo one')).stdout.toString()).toBe('one\n');
  for (const pid of sshd.children()) process.kill(pid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  expect((await conn.exec('echo two')).stdout.toString()).toBe('two\n');
  expect(conn.connects).toBe(2);
});

test('a drop that is not noticed yet is also recovered on the next command', async () => {
  const conn = connect();
  await conn.exec('true');
  for (const pid of sshd.children()) process.kill(pid, 'SIGKILL');
  // no wait: the next command may find its shell's channel dead
  const first = await conn.exec('echo a').catch((e) => e);
  if (!(first instanceof Error)) expect(first.stdout.toString()).toBe('a\n');
  else expect(first).toBeInstanceOf(UnreachableError);
  expect((await conn.exec('echo b')).stdout.toString()).toBe('b\n');
});

describe('unreachable, with a clear reason', () => {
  test('connection refused', async () => {
    const srv = require('net').createServer();
    const port: number = await new Promise((r) => srv.listen(0, '127.0.0.1', () => r(srv.address().port)));
    await new Promise((r) => srv.close(r));
    const err = await connect({ port }).exec('true').catch((e) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toMatch(/^sshtest: connection refused by root@127.0.0.1:\d+/);
  });

  test('authentication failed', async () => {
    const k = path.join(sshd.dir, 'unauthorized');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', k], { stdio: 'ignore' });
    const err = await connect({ privateKeyFile: k }, { homeDir: sshd.dir }).exec('true').catch((e) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toMatch(/authentication failed for root@127.0.0.1/);
  });

  test('encrypted key: without a passphrase it says so; with it, it works', async () => {
    const k = path.join(sshd.dir, 'encrypted');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'sesame', '-f', k], { stdio: 'ignore' });
    fs.appendFileSync(path.join(sshd.dir, 'authorized_keys'), fs.readFileSync(`${k}.pub`));
    const err = await connect({ privateKeyFile: k }).exec('true').catch((e) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toMatch(/private key .*encrypted is encrypted and needs a passphrase/);
    const ok = await connect({ privateKeyFile: k, passphrase: 'sesame' }).exec('echo in');
    expect(ok.stdout.toString()).toBe('in\n');
  });

  test('default keys are used when none is configured', async () => {
    const home = path.join(sshd.dir, 'home');
    fs.mkdirSync(path.join(home, '.ssh'), { recursive: true });
    fs.copyFileSync(sshd.clientKey, path.join(home, '.ssh', 'id_ed25519'));
    const r = await connect({ privateKeyFile: undefined }, { homeDir: home }).exec('echo default');
    expect(r.stdout.toString()).toBe('default\n');
  });

  test('timeouts, DNS and auth errors are described in words', () => {
    const t = { name: 'h', address: 'h.example', port: 22, user: 'u' };
    expect(describeConnectError(t, Object.assign(new Error('x'), { code: 'ENOTFOUND' }))).toBe('cannot resolve host name h.example (DNS)');
    expect(describeConnectError(t, Object.assign(new Error('Timed out while waiting for handshake'), { level: 'client-timeout' }))).toBe(
      'timed out connecting to u@h.example:22',
    );
    expect(describeConnectError(t, Object.assign(new Error('All configured authentication methods failed'), { level: 'client-authentication' }))).toMatch(
      /authentication failed/,
    );
  });
});

test('jump host (ProxyJump through the same sshd)', async () => {
  const conn = connect({ address: '127.0.0.1', jump: { address: '127.0.0.1', port: sshd.port, user: 'root' } });
  const r = await conn.exec('echo "$SSH_CONNECTION"');
  // the target sees the connection coming from the jump host's forward
  expect(r.stdout.toString()).toMatch(/^127\.0\.0\.1 \d+ 127\.0\.0\.1 \d+\n$/);
  expect(sshd.log()).toMatch(/direct-tcpip|Connection from 127.0.0.1/);
});

test('become over ssh: one shell per become user, in parallel', async () => {
  const conn = connect();
  const [a, b] = await Promise.all([conn.exec('id -un', { become: { user: 'nobody', method: 'sudo' } }), conn.exec('id -un')]);
  expect(a.stdout.toString()).toBe('nobody\n');
  expect(b.stdout.toString()).toBe('root\n');
  expect(conn.sessions).toBe(2);
});

test('parallel commands stay below MaxSessions (cap 8), queueing beyond', async () => {
  const conn = connect();
  const rs = await Promise.all(Array.from({ length: 16 }, (_, i) => conn.exec(`sleep 0.2; echo ${i}`)));
  rs.forEach((r, i) => expect(r.stdout.toString()).toBe(`${i}\n`));
  expect(conn.sessions).toBe(8);
  expect(conn.connects).toBe(1);
});

test('timeout and abort over ssh kill the remote command', async () => {
  const conn = connect();
  const tag = `${Date.now() % 100000}.25`;
  await expect(conn.exec(`sleep ${tag}`, { timeoutMs: 300 })).rejects.toThrow(/timed out after 300 ms/);
  expect((await conn.exec('echo alive')).stdout.toString()).toBe('alive\n');
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 200);
  await expect(conn.exec(`sleep ${tag}`, { signal: ac.signal })).rejects.toBeInstanceOf(InterruptedError);
  await new Promise((r) => setTimeout(r, 300));
  const ps = await conn.exec(`ps -eo args | grep -c '^sleep ${tag}$' || true`);
  expect(ps.stdout.toString().trim()).toBe('0');
});

test('ConnectionPool: one connection per host name, concurrent gets share one connect', async () => {
  const pool = new ConnectionPool({ maxChannelsPerHost: 2 });
  const spec = sshd.spec({ name: 'pooled' });
  const [a, b] = await Promise.all([pool.get(spec), pool.get(spec)]);
  expect(a).toBe(b);
  expect((a as SshConnection).connects).toBe(1);
  const local = await pool.get({ ...spec, name: 'me', type: 'local' });
  expect((await local.exec('echo local')).stdout.toString()).toBe('local\n');
  await Promise.all(Array.from({ length: 5 }, () => a.exec('true')));
  expect((a as SshConnection).sessions).toBe(2);
  await pool.closeAll();
  await expect(a.exec('true')).rejects.toBeInstanceOf(UnreachableError);
});
