#!/usr/bin/env node
/**
 * Scale benchmark (issue 16): the bench's 20-task playbook (test/bench/ansible/site.yml) on N
 * loopback hosts from one controller. Prints figures; it is not a timed test.
 *
 *   npm run build
 *   node test/bench/scale.js [--n 20,100,200,500] [--fleet per-host|shared|both] [--forks 20]
 *        [--max-startups 10:30:100] [--reps 1] [--timeout-s 10] [--json FILE]
 *
 * For each fleet kind (fleet.js: one sshd per host, or one sshd per 16 hosts) the fleet for the
 * largest N is started once and its cost printed (start-up wall time, RSS of the idle daemons).
 * Then per N: a first run (fresh trees, everything changes) and a no-change run, each printing
 * wall time, cost per host-task (wall / (N x 20)), the controller's peak RSS and CPU (user+sys:
 * the rest of the wall time is the host side and waiting), the host side's peak RSS (the sshd
 * daemons and every session and shell under them, sampled), and from the sshd logs (LogLevel
 * VERBOSE, lines time-stamped as they arrive): connects dropped past MaxStartups (tsplay retries
 * them, runner/connection/connect-retry.ts) and the most connections opening at one time (TCP
 * accepted, not yet authenticated), which --forks must bound. tsplay's stderr is checked for
 * warnings (listeners, file descriptors). sshd's MaxStartups is the stock 10:30:100 unless given.
 */
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { life, cleanup, onSignals, startFleet, run, recap, median, treeRssKiB, log } = require('./fleet');

const ROOT = path.resolve(__dirname, '..', '..');
const TASKS = 20;
const out = (s) => void process.stdout.write(s + '\n');

function parseArgs(argv) {
  const o = { ns: [20, 100, 200, 500], fleets: ['per-host'], forks: 20, maxStartups: '10:30:100', reps: 1, timeoutS: 10, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--n') o.ns = val().split(',').map(Number);
    else if (a === '--fleet') {
      const v = val();
      o.fleets = v === 'both' ? ['per-host', 'shared'] : [v];
    } else if (a === '--forks') o.forks = Number(val());
    else if (a === '--max-startups') o.maxStartups = val();
    else if (a === '--reps') o.reps = Number(val());
    else if (a === '--timeout-s') o.timeoutS = Number(val());
    else if (a === '--json') o.json = val();
    else throw new Error(`unknown argument ${a} (see the header of ${__filename})`);
  }
  if (o.ns.some((n) => !Number.isInteger(n) || n < 1 || n > 2000)) throw new Error('--n: integers 1..2000');
  for (const f of o.fleets) if (!['per-host', 'shared'].includes(f)) throw new Error(`--fleet: per-host, shared or both, not ${f}`);
  if (!/^\d+(:\d+:\d+)?$/.test(o.maxStartups)) throw new Error('--max-startups: N or start:rate:full');
  return o;
}

/** sshd log lines -> connects dropped past MaxStartups, and time intervals of connections being opened. */
function logWatcher() {
  const opening = new Map();
  const spans = [];
  let drops = 0;
  let from = 0;
  return {
    mark() {
      from = Date.now();
      drops = 0;
      spans.length = 0;
      opening.clear();
    },
    line(l, ms) {
      if (/past MaxStartups/.test(l)) return void drops++;
      let m = /Connection from (\S+) port (\d+) on/.exec(l);
      if (m) return void opening.set(`${m[1]}:${m[2]}`, ms);
      m = /Accepted publickey for \S+ from (\S+) port (\d+)/.exec(l);
      if (m && opening.has(`${m[1]}:${m[2]}`)) {
        const t = opening.get(`${m[1]}:${m[2]}`);
        opening.delete(`${m[1]}:${m[2]}`);
        if (t >= from) spans.push([t, ms]);
      }
    },
    /** drops, authenticated connects, and the most of them in their opening phase at one time */
    summary() {
      const ev = spans.flatMap(([a, b]) => [[a, 1], [b + 0.5, -1]]).sort((x, y) => x[0] - y[0]);
      let cur = 0;
      let peak = 0;
      for (const [, d] of ev) peak = Math.max(peak, (cur += d));
      return { drops, connects: spans.length, peakOpening: peak };
    },
  };
}

async function main(argv) {
  const o = parseArgs(argv);
  if (!fs.existsSync(path.join(ROOT, 'dist/runner/cli.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-scale-'));
  life.cleanups.push(() => fs.rmSync(work, { recursive: true, force: true }));
  const pbDir = path.join(work, 'pb');
  fs.cpSync(path.join(__dirname, 'ansible'), pbDir, { recursive: true });
  const pb = path.join(pbDir, 'site.yml');
  const rows = [];
  const fleets = [];
  const problems = [];
  try {
    for (const kind of o.fleets) {
      const maxN = Math.max(...o.ns);
      const watch = logWatcher();
      const fleetDir = path.join(work, kind);
      fs.mkdirSync(fleetDir);
      log(`${kind}: starting sshd for ${maxN} hosts`);
      const fleet = await startFleet(fleetDir, maxN, { mode: kind, maxStartups: o.maxStartups, logLevel: 'VERBOSE', onLine: watch.line });
      const idleKiB = treeRssKiB(fleet.daemons);
      fleets.push({ kind, hosts: maxN, daemons: fleet.daemons.length, startMs: fleet.startMs, idleKiB });
      log(`${kind}: ${fleet.daemons.length} sshd up in ${(fleet.startMs / 1000).toFixed(1)} s, idle RSS ${(idleKiB / 1024).toFixed(0)} MiB`);
      const remoteRoot = path.join(fleetDir, 'remote');
      for (const n of o.ns) {
        const hosts = fleet.hosts.slice(0, n);
        const inv = path.join(fleetDir, `inventory-${n}.ini`);
        fs.writeFileSync(
          inv,
          ['[bench]', ...hosts.map((h) => `${h.name} ansible_host=${h.address} ansible_port=${h.port} bench_port=${h.port}`), '', '[bench:vars]',
            'ansible_user=root', `ansible_ssh_private_key_file=${fleet.clientKey}`, `bench_root=${remoteRoot}`, 'bench_workers=4', 'bench_nofile=65536', ''].join('\n'),
        );
        for (let rep = 0; rep < o.reps; rep++) {
          fs.rmSync(remoteRoot, { recursive: true, force: true });
          for (const phase of ['first', 'second']) {
            if (life.stopping) throw new Error('interrupted');
            watch.mark();
            const r = await run(process.execPath, [path.join(ROOT, 'bin/tsplay'), 'run', pb, '-i', inv, '--known-hosts', fleet.knownHosts,
              '--host-key-checking', 'strict', '-f', String(o.forks), '--timeout', String(o.timeoutS)], {
              env: { NO_COLOR: '1' }, timeoutS: 1800, cwd: ROOT, sampleRoots: () => fleet.daemons,
            });
            // the last log lines of the run may still be in the pipes
            await new Promise((res) => setTimeout(res, 300));
            const w = watch.summary();
            const rc = recap(r.stdout);
            const warnings = r.stderr.split('\n').filter((l) => /warning|MaxListeners|EMFILE|ENFILE|too many open/i.test(l));
            const bad =
              r.timedOut ? 'timed out' :
              r.code !== 0 ? `exit ${r.code}` :
              rc.hosts !== n ? `recap lists ${rc.hosts}/${n} hosts` :
              rc.failed || rc.unreachable ? `failed=${rc.failed} unreachable=${rc.unreachable}` :
              phase === 'first' && rc.changed < n * 15 ? `first run changed only ${rc.changed}` :
              phase === 'second' && rc.changed !== 0 ? `second run changed=${rc.changed}` :
              warnings.length ? `warnings: ${warnings.slice(0, 3).join(' | ')}` :
              w.peakOpening > o.forks ? `${w.peakOpening} connections opening at once with --forks ${o.forks}` : '';
            if (bad) {
              const f = `/tmp/tsplay-scale-fail-${kind}-${n}-${phase}.log`;
              fs.writeFileSync(f, `${r.stdout}\n--- stderr ---\n${r.stderr}`);
              problems.push(`${kind} N=${n} ${phase}: ${bad} (output in ${f})`);
              log(`PROBLEM ${problems[problems.length - 1]}`);
            }
            const row = { fleet: kind, n, phase, rep, forks: o.forks, load1: os.loadavg()[0], ms: r.ms, cpuS: r.cpuS, rssKiB: r.rssKiB, hostKiB: r.hostKiB, ...w, ok: !bad };
            rows.push(row);
            log(`${kind} N=${n} ${phase}: ${(r.ms / 1000).toFixed(2)} s, ${(r.ms / (n * TASKS)).toFixed(2)} ms/host-task, RSS ${(r.rssKiB / 1024).toFixed(0)} MiB, ` +
              `cpu ${r.cpuS.toFixed(1)} s, load ${row.load1.toFixed(1)}, drops ${w.drops}, connects ${w.connects}, peak opening ${w.peakOpening}${bad ? ' ' + bad : ''}`);
          }
        }
      }
    }
    out(`\n## tsplay at scale (${new Date().toISOString().slice(0, 16)} UTC; forks ${o.forks}; MaxStartups ${o.maxStartups}; --timeout ${o.timeoutS}; reps ${o.reps}, medians)\n`);
    out('| fleet | sshd daemons | hosts | start s | idle RSS MiB |');
    out('|---|---|---|---|---|');
    for (const f of fleets) out(`| ${f.kind} | ${f.daemons} | ${f.hosts} | ${(f.startMs / 1000).toFixed(1)} | ${(f.idleKiB / 1024).toFixed(0)} |`);
    out('');
    out(table(rows));
    if (problems.length) {
      out('\nProblems:');
      for (const p of problems) out(`- ${p}`);
      process.exitCode = 2;
    } else out('\nAll runs checked: exit 0, every host in the recap, nothing failed or unreachable, first run changed, no-change run changed=0, no warnings, connections opening at once <= forks.');
  } finally {
    if (o.json) fs.writeFileSync(o.json, JSON.stringify({ fleets, rows }, null, 1));
    await cleanup();
  }
}

function table(rows) {
  const head = ['fleet', 'N', 'run', 'forks', 'wall s', 'ms per host-task', 'controller CPU s', 'controller peak RSS MiB', 'host side peak RSS MiB', 'load avg 1 min', 'MaxStartups drops (retried)', 'peak connections opening'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  const keys = [...new Set(rows.map((r) => `${r.fleet}\0${r.n}\0${r.phase}\0${r.forks}`))];
  for (const k of keys) {
    const [fleet, n, phase, forks] = k.split('\0');
    const rs = rows.filter((r) => r.fleet === fleet && r.n === +n && r.phase === phase && r.forks === +forks);
    const med = (f) => median(rs.map(f));
    const ms = med((r) => r.ms);
    lines.push(`| ${fleet} | ${n} | ${phase === 'second' ? 'no-change' : 'first'} | ${forks} | ${(ms / 1000).toFixed(2)} | ${(ms / (+n * TASKS)).toFixed(2)} | ` +
      `${med((r) => r.cpuS).toFixed(1)} | ${(med((r) => r.rssKiB) / 1024).toFixed(0)} | ${(med((r) => r.hostKiB) / 1024).toFixed(0)} | ${med((r) => r.load1).toFixed(1)} | ` +
      `${rs.map((r) => r.drops).join('/')} | ${Math.max(...rs.map((r) => r.peakOpening))} |`);
  }
  return lines.join('\n');
}

onSignals();
main(process.argv.slice(2)).catch(async (e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exitCode = 1;
  await cleanup();
});
