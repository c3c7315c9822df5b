/**
 * Prints the figures behind DESIGN.md's persistent-shell rule, measured on this machine:
 *  - ms per no-op command: one persistent shell vs a new SSH exec channel per command
 *    (private sshd on 127.0.0.1 with Debian's stock dot files, see the test fixture)
 *  - the same for the local connection
 *  - a 100 MiB atomic write: time and the controller's peak RSS (in a child process, so the
 *    figure is that of the write alone: the 100 MiB buffer itself is counted once).
 * Run: node test/bench/connection-bench.js   (not a timed test: it prints, it does not judge)
 */

import { spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NodeSSH } from 'node-ssh';
import { LocalConnection } from '../../runner/connection/local';
import { createRemote } from '../../runner/connection/remote';
import { SshConnection } from '../../runner/connection/ssh';
import type { Connection } from '../../runner/connection/types';
import { startSshd } from '../runner/connection/sshd-fixture';

const MiB = 1024 * 1024;
const out = (s: string): void => void process.stdout.write(s + '\n');

async function perCommand(n: number, f: () => Promise<unknown>): Promise<number> {
  await f(); // warm up
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await f();
  return Number(process.hrtime.bigint() - t) / 1e6 / n;
}

async function write100(kind: 'local' | 'ssh', port?: number, key?: string): Promise<void> {
  const conn: Connection =
    kind === 'local'
      ? new LocalConnection('bench')
      : new SshConnection({
          name: 'bench',
          type: 'ssh',
          address: '127.0.0.1',
          port: port!,
          user: 'root',
          privateKeyFile: key,
          hostKeyChecking: 'off',
          knownHostsFile: '/dev/null',
          timeoutMs: 10_000,
        });
  const remote = createRemote(conn);
  await remote.query('true');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-bench-'));
  // filled in place from a 1 MiB random block: randomBytes(100 MiB) would itself peak at 2x
  const data = Buffer.allocUnsafe(100 * MiB);
  const block = randomBytes(MiB);
  for (let o = 0; o < data.length; o += MiB) block.copy(data, o);
  const before = process.memoryUsage().rss / MiB;
  const t = Date.now();
  await remote.writeFile(path.join(dir, 'big'), data);
  const ms = Date.now() - t;
  const peak = process.resourceUsage().maxRSS / 1024;
  const ok = fs.statSync(path.join(dir, 'big')).size === data.length;
  fs.rmSync(dir, { recursive: true, force: true });
  await conn.close();
  out(JSON.stringify({ ms, rssBeforeMiB: Math.round(before), peakRssMiB: Math.round(peak), ok }));
}

export async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--write-child') return write100(argv[1] as 'local' | 'ssh', Number(argv[2]), argv[3]);

  const sshd = await startSshd();
  try {
    const spec = sshd.spec({ hostKeyChecking: 'off' });
    const conn = new SshConnection(spec);
    const persistent = await perCommand(300, () => conn.exec(':'));
    const persistentFork = await perCommand(100, () => conn.exec('/bin/true'));
    const raw = new NodeSSH();
    await raw.connect({ host: '127.0.0.1', port: sshd.port, username: 'root', privateKeyPath: sshd.clientKey, hostVerifier: () => true } as never);
    const channel = await perCommand(30, () => raw.execCommand(':'));
    raw.dispose();
    const local = new LocalConnection('bench');
    const localNoop = await perCommand(300, () => local.exec(':'));
    const localFork = await perCommand(100, () => local.exec('/bin/true'));
    await local.close();
    out(`no-op command, one persistent shell over ssh:   ${persistent.toFixed(2)} ms`);
    out(`fork+exec command (/bin/true), persistent ssh:  ${persistentFork.toFixed(2)} ms`);
    out(`no-op command, new ssh exec channel each:       ${channel.toFixed(2)} ms`);
    out(`no-op command, local persistent shell:          ${localNoop.toFixed(2)} ms`);
    out(`fork+exec command (/bin/true), local:           ${localFork.toFixed(2)} ms`);
    await conn.close();
    for (const kind of ['local', 'ssh']) {
      const r = spawnSync(process.execPath, [path.join(__dirname, 'connection-bench.js'), '--write-child', kind, String(sshd.port), sshd.clientKey], {
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`write child failed: ${r.stderr}`);
      const w = JSON.parse(r.stdout.trim().split('\n').pop()!);
      out(
        `100 MiB atomic write (${kind.padEnd(5)}): ${w.ms} ms, peak RSS ${w.peakRssMiB} MiB, +${Math.max(0, w.peakRssMiB - w.rssBeforeMiB)} MiB for the write ` +
          `(RSS ${w.rssBeforeMiB} MiB just before it, holding the 100 MiB buffer)${w.ok ? '' : ' SIZE MISMATCH'}`,
      );
    }
  } finally {
    await sshd.stop();
  }
}
