/**
 * What the benchmarks share (ansible-vs-tsplay.js, scale.js): a fleet of loopback "hosts" served
 * by private sshd daemons, measured child runs, recap parsing, and one cleanup list that ends
 * everything they started, by PID, also on error or Ctrl-C.
 *
 * Hosts are 127.0.X.Y (X = 1.., Y = 1..250): loopback only. Two ways to serve them:
 *  - per-host: one sshd per host (its own address, port and host key), as a real fleet has;
 *  - shared: one sshd per 16 hosts (OpenSSH's MAX_LISTEN_SOCKS is 16), each host still its own
 *    ListenAddress and port; the 16 share a host key, a mount namespace and MaxStartups.
 * Every sshd runs in its own `unshare -m` with Debian's stock dot.bashrc/dot.profile bind-mounted
 * over /root's: this machine's .bashrc runs pyenv init (~0.5 s per remote command); a server's does not.
 * Each sshd's stderr (-e) lines are passed to `onLine(line, ms)` with the time they arrived.
 */
'use strict';

const { spawn, execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const log = (s) => void process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const LISTEN_PER_SSHD = 16;
const MAX_HOSTS = 250 * 250;

// ---------------------------------------------------------------- lifecycle

const life = { cleanups: [], stopping: false, cleaning: undefined };

function cleanup() {
  life.stopping = true;
  life.cleaning ??= (async () => {
    while (life.cleanups.length) {
      const f = life.cleanups.pop();
      try {
        await f();
      } catch (e) {
        log(`cleanup: ${e.message}`);
      }
    }
  })();
  return life.cleaning;
}

/** Ctrl-C / TERM: end what was started, then die of the same signal. */
function onSignals() {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      log(`${sig}: stopping the runs and the sshd daemons`);
      cleanup().finally(() => {
        // main()'s pending awaits would keep node alive: die of the same signal, now that all is down
        process.removeAllListeners(sig);
        process.kill(process.pid, sig);
      });
    });
  }
}

function killPid(pid, sig) {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function childrenOf(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------- sshd fleet

async function freePort(address) {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, address, () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitForBanner(address, port, ms) {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, address);
      c.once('data', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`sshd on ${address}:${port} did not answer within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function keygen(file, type) {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'tsplay-bench', '-f', file], { stdio: 'ignore' });
}

/** Host i (1-based) -> 127.0.X.Y, 250 per /24. */
function addressOf(i) {
  return `127.0.${1 + Math.floor((i - 1) / 250)}.${1 + ((i - 1) % 250)}`;
}

/**
 * Start sshd daemons serving `count` hosts. o.mode 'per-host' | 'shared'; o.maxStartups (sshd's
 * syntax); o.logLevel (sshd's); o.onLine(line, ms). Returns { hosts, clientKey, knownHosts, daemons, startMs }.
 */
async function startFleet(work, count, o = {}) {
  const mode = o.mode ?? 'per-host';
  const perDaemon = mode === 'shared' ? LISTEN_PER_SSHD : 1;
  if (count > MAX_HOSTS) throw new Error(`at most ${MAX_HOSTS} hosts`);
  const t0 = Date.now();
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const clientKey = path.join(work, 'client_ed25519');
  keygen(clientKey, 'ed25519');
  const authorized = path.join(work, 'authorized_keys');
  fs.copyFileSync(`${clientKey}.pub`, authorized);
  const hosts = [];
  const procs = [];
  life.cleanups.push(async () => {
    // per-connection children first, so no session outlives its daemon
    for (const p of procs) for (const c of childrenOf(p.pid)) killPid(c, 'SIGKILL');
    await Promise.all(
      procs.map(
        (p) =>
          new Promise((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            p.once('exit', resolve);
            killPid(p.pid, 'SIGTERM');
            setTimeout(() => {
              killPid(p.pid, 'SIGKILL');
              resolve();
            }, 3000).unref();
          }),
      ),
    );
  });
  const script =
    'mount --bind /usr/share/base-files/dot.bashrc /root/.bashrc && ' +
    'mount --bind /usr/share/base-files/dot.profile /root/.profile && ' +
    'exec /usr/sbin/sshd -D -e -f "$0"';
  const known = [];
  for (let d = 0; d * perDaemon < count; d++) {
    const dir = path.join(work, 'sshd', `d${d + 1}`);
    fs.mkdirSync(dir, { recursive: true });
    keygen(path.join(dir, 'host_ed25519'), 'ed25519');
    const pub = fs.readFileSync(path.join(dir, 'host_ed25519.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    const mine = [];
    for (let i = d * perDaemon + 1; i <= Math.min(count, (d + 1) * perDaemon); i++) {
      const address = addressOf(i);
      mine.push({ name: `h${i}`, address, port: await freePort(address) });
    }
    const cfg = path.join(dir, 'sshd_config');
    fs.writeFileSync(
      cfg,
      [
        // sshd listens on each Port for each ListenAddress: give each host its own address:port pair
        ...mine.map((h) => `ListenAddress ${h.address}:${h.port}`),
        `HostKey ${dir}/host_ed25519`,
        `PidFile ${dir}/sshd.pid`,
        `AuthorizedKeysFile ${authorized}`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'MaxSessions 10',
        `MaxStartups ${o.maxStartups ?? '100:30:200'}`,
        `LogLevel ${o.logLevel ?? 'ERROR'}`,
        '',
      ].join('\n'),
    );
    const p = spawn('unshare', ['-m', 'sh', '-c', script, cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    let partial = '';
    p.stderr.on('data', (c) => {
      const s = c.toString();
      err = (err + s).slice(-4000);
      if (!o.onLine) return;
      const now = Date.now();
      const lines = (partial + s).split('\n');
      partial = lines.pop();
      for (const l of lines) o.onLine(l, now);
    });
    procs.push(p);
    for (const h of mine) {
      hosts.push({ ...h, err: () => err });
      known.push(`[${h.address}]:${h.port} ${pub}`);
    }
  }
  await Promise.all(hosts.map((h) => waitForBanner(h.address, h.port, 30000).catch((e) => { throw new Error(`${e.message}: ${h.err()}`); })));
  const knownHosts = path.join(work, 'known_hosts');
  fs.writeFileSync(knownHosts, known.join('\n') + '\n');
  return { hosts, clientKey, knownHosts, daemons: procs.map((p) => p.pid), startMs: Date.now() - t0 };
}

// ---------------------------------------------------------------- measured runs

/** pid -> parent pid, for every process now. */
function processTree() {
  const parent = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  return parent;
}

/** Sum of RSS (KiB) over the roots and their descendants, from /proc (shared pages count once per process). */
function treeRssKiB(roots) {
  const set = new Set(Array.isArray(roots) ? roots : [roots]);
  const parent = processTree();
  let sum = 0;
  for (const pid of parent.keys()) {
    let p = pid;
    while (p > 1 && !set.has(p)) p = parent.get(p) ?? 0;
    if (!set.has(p)) continue;
    try {
      sum += Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4; // statm counts 4 KiB pages
    } catch {
      // exited meanwhile
    }
  }
  return sum;
}

/**
 * Run a command under /usr/bin/time in its own process group (a timeout ends it all by pgid).
 * Resolves { ms, code, timedOut, stdout, stderr, rssKiB (main process peak), cpuS (user+sys), treeKiB }.
 * o.sampleTree: also sample the RSS of its process tree every 100 ms; o.sampleRoots(): other
 * roots to sample alongside (e.g. the sshd daemons: the host side), peak in `hostKiB`.
 */
function run(cmd, args, { env, timeoutS, cwd, sampleTree, sampleRoots }) {
  return new Promise((resolve, reject) => {
    if (life.stopping) return reject(new Error('interrupted'));
    const rssFile = path.join(os.tmpdir(), `tsplay-bench-rss-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
    const t0 = process.hrtime.bigint();
    const p = spawn('/usr/bin/time', ['-f', '%M %U %S', '-o', rssFile, cmd, ...args], {
      env: { ...process.env, ...env },
      cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c.toString()));
    p.stderr.on('data', (c) => (stderr += c.toString()));
    let treePeak = 0;
    let hostPeak = 0;
    const sampler =
      sampleTree || sampleRoots
        ? setInterval(() => {
            if (sampleTree) treePeak = Math.max(treePeak, treeRssKiB(p.pid));
            if (sampleRoots) hostPeak = Math.max(hostPeak, treeRssKiB(sampleRoots()));
          }, sampleRoots ? 500 : 100)
        : undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killPid(-p.pid, 'SIGKILL');
    }, timeoutS * 1000);
    const abort = () => killPid(-p.pid, 'SIGKILL');
    life.cleanups.push(abort);
    p.on('error', reject);
    p.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      clearTimeout(timer);
      if (sampler) clearInterval(sampler);
      life.cleanups.splice(life.cleanups.indexOf(abort), 1);
      let rss = NaN;
      let cpuS = NaN;
      try {
        const [m, u, s] = fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
        rss = m;
        cpuS = u + s;
        fs.rmSync(rssFile, { force: true });
      } catch {
        // killed before time wrote it
      }
      resolve({ ms, code, timedOut, stdout, stderr, rssKiB: rss, cpuS, treeKiB: treePeak, hostKiB: hostPeak });
    });
  });
}

/** Sum of the PLAY RECAP counters over all hosts (same line format in tsplay and Ansible). */
function recap(text) {
  const tot = { hosts: 0, ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0 };
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)(?:\s+skipped=(\d+))?/.exec(line.replace(/\x1b\[[0-9;]*m/g, ''));
    if (!m) continue;
    tot.hosts++;
    tot.ok += +m[2];
    tot.changed += +m[3];
    tot.unreachable += +m[4];
    tot.failed += +m[5];
    tot.skipped += +(m[6] || 0);
  }
  return tot;
}

function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

module.exports = { life, cleanup, onSignals, killPid, childrenOf, startFleet, addressOf, run, recap, median, treeRssKiB, log };
