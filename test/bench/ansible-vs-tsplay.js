#!/usr/bin/env node
/**
 * Side-by-side benchmark against Ansible (issue 3). Prints a markdown table; it is not a timed test.
 *
 *   npm run build                   # it runs dist/, build first
 *   node test/bench/ansible-vs-tsplay.js [--n 1,5,20] [--full] [--reps 3] [--ansible-reps R]
 *        [--facts off|on|both] [--ansible tuned,mitogen,default|none] [--timeout 900] [--json FILE]
 *
 * N plain sshd daemons are started on 127.0.1.1..127.0.1.N (own ports, own host keys, one
 * authorized_keys; fleet.js, one sshd per host), each in its own `unshare -m` with Debian's stock
 * dot.bashrc/dot.profile bind-mounted over /root's: this machine's .bashrc runs pyenv init
 * (~0.5 s per remote command), a real server's does not, and it would tax Ansible far more than
 * tsplay. Host keys are checked by every tool against one generated known_hosts.
 *
 * Ansible variants (--ansible, each test/bench/ansible/ansible-VARIANT.cfg): tuned (as Ansible's
 * docs advise: -f N, pipelining, ControlPersist, a fixed interpreter); mitogen (tuned plus the
 * Mitogen strategy, mitogen_linear from Debian's ansible-mitogen package: the fastest Ansible a
 * user can have; `apt install ansible-mitogen`); default (as installed). The table prints each
 * one's time and its ratio to tsplay's.
 *
 * ONE playbook (test/bench/ansible/site.yml, 20 tasks) runs unchanged under ansible-playbook and
 * tsplay; the facts-on rows use a copy with `gather_facts: true` (the only line that differs).
 * Per N and facts setting, each tool variant runs: first (fresh hosts, all changed), second
 * (nothing changes), check (--check on the converged hosts: the dry run before a deploy).
 * After the second run the hosts' trees are compared between the tools (same files, modes,
 * contents, links), and the recaps must say changed>0, then changed=0, and nothing failed.
 *
 * Peak RSS: `/usr/bin/time -f %M` gives the main process (tsplay's whole cost: one process;
 * ansible-playbook's controller only). For Ansible the process tree (forks, ssh clients) is also
 * sampled from /proc every 100 ms and the highest sum of RSS is printed ("tree", an undercount
 * of short peaks, and shared pages count once per process).
 *
 * Two floors, each a child node process (node start included) that connects to all hosts in
 * parallel and then makes as many round trips per host as the play has tasks:
 *  - exec floor (the issue's definition): one ssh2 connection per host, one SSH exec request of
 *    `true` per round trip (a channel, a session child of sshd and the login shell each time).
 *  - shell floor (stricter): one runner/connection SshConnection per host and a bare `:` per
 *    round trip on its persistent shell: no channel, no process started on the host at all. A
 *    task that must stat or checksum a file starts one or two programs on the host, so no real
 *    task reaches this floor; it shows what tsplay's own transport costs.
 *
 * Every child has a timeout; the sshd daemons, Ansible's ControlPersist masters and the temp
 * dir are removed at the end, also on error or Ctrl-C. Processes are ended by PID only.
 */
'use strict';

const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { life, cleanup, onSignals, startFleet, run, recap, median, log } = require('./fleet');

const ROOT = path.resolve(__dirname, '..', '..');
const PB_SRC = path.join(__dirname, 'ansible');
const TASKS = 20;
/** Ansible variants, each an ansible-VARIANT.cfg in test/bench/ansible/ */
const ANSIBLES = ['tuned', 'mitogen', 'default'];
const MITOGEN_STRATEGY = '/usr/lib/python3/dist-packages/ansible_mitogen/plugins/strategy/mitogen_linear.py';
const out = (s) => void process.stdout.write(s + '\n');

// ---------------------------------------------------------------- floor child (own process)

async function floorChild(specFile, kind) {
  const { hosts, trips } = JSON.parse(fs.readFileSync(specFile, 'utf8'));
  if (kind === 'exec') return execFloor(hosts, trips);
  const { SshConnection } = require(path.join(ROOT, 'dist/runner/connection/ssh.js'));
  await Promise.all(
    hosts.map(async (spec) => {
      const conn = new SshConnection(spec);
      try {
        for (let i = 0; i < trips; i++) {
          const r = await conn.exec(':');
          if (r.rc !== 0) throw new Error(`floor: ':' exited ${r.rc} on ${spec.name}`);
        }
      } finally {
        await conn.close();
      }
    }),
  );
}

/** The issue's floor: `trips` SSH exec requests of `true`, one after the other, over one ssh2 connection per host. */
async function execFloor(hosts, trips) {
  const { Client } = require('ssh2');
  const known = new Map();
  for (const line of fs.readFileSync(hosts[0].knownHostsFile, 'utf8').split('\n')) {
    const [where, , b64] = line.split(' ');
    if (b64) known.set(where, b64);
  }
  await Promise.all(
    hosts.map(
      (spec) =>
        new Promise((resolve, reject) => {
          const c = new Client();
          const want = known.get(`[${spec.address}]:${spec.port}`);
          const one = (i) => {
            if (i === trips) {
              c.end();
              return resolve();
            }
            c.exec('true', (err, stream) => {
              if (err) return reject(err);
              stream.on('close', (code) => (code === 0 ? one(i + 1) : reject(new Error(`floor: true exited ${code} on ${spec.name}`))));
              stream.resume();
              stream.stderr.resume();
            });
          };
          c.on('ready', () => one(0));
          c.on('error', reject);
          c.connect({
            host: spec.address,
            port: spec.port,
            username: spec.user,
            privateKey: fs.readFileSync(spec.privateKeyFile),
            hostVerifier: (key) => key.toString('base64') === want,
            readyTimeout: spec.timeoutMs,
          });
        }),
    ),
  );
}

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const o = { ns: [1, 5, 20], full: false, reps: 3, ansibleReps: undefined, facts: ['off', 'on'], ansible: ['tuned', 'mitogen', 'default'], timeout: 900, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--n') o.ns = val().split(',').map(Number);
    else if (a === '--full') o.full = true;
    else if (a === '--reps') o.reps = Number(val());
    else if (a === '--ansible-reps') o.ansibleReps = Number(val());
    else if (a === '--facts') {
      const v = val();
      o.facts = v === 'both' ? ['off', 'on'] : [v];
    } else if (a === '--ansible') {
      const v = val();
      o.ansible = v === 'none' ? [] : v.split(',');
    } else if (a === '--timeout') o.timeout = Number(val());
    else if (a === '--json') o.json = val();
    else throw new Error(`unknown argument ${a} (see the header of ${__filename})`);
  }
  if (o.full && !o.ns.includes(50)) o.ns.push(50);
  if (o.ns.some((n) => !Number.isInteger(n) || n < 1 || n > 250)) throw new Error('--n: integers 1..250');
  for (const v of o.ansible) if (!ANSIBLES.includes(v)) throw new Error(`--ansible: a list of ${ANSIBLES.join(', ')}, or none; not ${v}`);
  for (const f of o.facts) if (!['on', 'off'].includes(f)) throw new Error(`--facts: off, on or both, not ${f}`);
  if (o.ansibleReps === undefined) o.ansibleReps = o.reps;
  return o;
}

// ---------------------------------------------------------------- measured runs
function treeDigest(dir) {
  const h = crypto.createHash('sha256');
  const walk = (d, rel) => {
    for (const e of fs.readdirSync(d).sort()) {
      const p = path.join(d, e);
      const r = path.join(rel, e);
      const st = fs.lstatSync(p);
      h.update(`${r}\0${(st.mode & 0o7777).toString(8)}\0`);
      if (st.isSymbolicLink()) h.update(`L${fs.readlinkSync(p)}\0`);
      else if (st.isDirectory()) {
        h.update('D\0');
        walk(p, r);
      } else h.update(fs.readFileSync(p));
    }
  };
  if (fs.existsSync(dir)) walk(dir, '');
  return h.digest('hex').slice(0, 16);
}

// ---------------------------------------------------------------- main

async function main(argv) {
  if (argv[0] === '--floor-child') return floorChild(argv[1], argv[2]);
  if (argv[0] === '--report') return report(argv.slice(1));
  const o = parseArgs(argv);
  if (!fs.existsSync(path.join(ROOT, 'dist/runner/cli.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const ansibleVersion = o.ansible.length ? execFileSync('ansible-playbook', ['--version'], { encoding: 'utf8' }).split('\n')[0] : 'not run';
  if (o.ansible.includes('mitogen') && !fs.existsSync(MITOGEN_STRATEGY)) throw new Error(`--ansible mitogen needs Debian's ansible-mitogen package (${MITOGEN_STRATEGY} is missing): apt install ansible-mitogen`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-vs-ansible-'));
  life.cleanups.push(() => fs.rmSync(work, { recursive: true, force: true }));
  const results = [];
  const problems = [];
  try {
    const maxN = Math.max(...o.ns);
    log(`starting ${maxN} sshd on 127.0.1.1..127.0.1.${maxN}`);
    const fleet = await startFleet(work, maxN);
    const remoteRoot = path.join(work, 'remote');

    // the playbook: one copy, plus the facts-on copy that differs in one line only
    const pbDir = path.join(work, 'pb');
    fs.cpSync(PB_SRC, pbDir, { recursive: true });
    const site = fs.readFileSync(path.join(pbDir, 'site.yml'), 'utf8');
    if (!/^ {2}gather_facts: false$/m.test(site)) throw new Error('site.yml must have a `  gather_facts: false` line');
    fs.writeFileSync(path.join(pbDir, 'site-facts.yml'), site.replace(/^ {2}gather_facts: false$/m, '  gather_facts: true'));

    for (const n of o.ns) {
      const hosts = fleet.hosts.slice(0, n);
      const inv = path.join(work, `inventory-${n}.ini`);
      fs.writeFileSync(
        inv,
        ['[bench]', ...hosts.map((h) => `${h.name} ansible_host=${h.address} ansible_port=${h.port} bench_port=${h.port}`), '', '[bench:vars]',
          'ansible_user=root', `ansible_ssh_private_key_file=${fleet.clientKey}`, `bench_root=${remoteRoot}`, 'bench_workers=4', 'bench_nofile=65536', ''].join('\n'),
      );
      const floorSpec = (trips) => {
        const f = path.join(work, `floor-${n}-${trips}.json`);
        fs.writeFileSync(f, JSON.stringify({
          trips,
          hosts: hosts.map((h) => ({ name: h.name, type: 'ssh', address: h.address, port: h.port, user: 'root', privateKeyFile: fleet.clientKey,
            hostKeyChecking: 'strict', knownHostsFile: fleet.knownHosts, timeoutMs: 10000 })),
        }));
        return f;
      };

      for (const facts of o.facts) {
        const pb = path.join(pbDir, facts === 'on' ? 'site-facts.yml' : 'site.yml');
        const trips = TASKS + (facts === 'on' ? 1 : 0);
        const variants = [
          { tool: 'tsplay', reps: o.reps },
          ...o.ansible.map((v) => ({ tool: `ansible-${v}`, reps: o.ansibleReps })),
        ];
        const digests = {};
        for (const v of variants) {
          for (let rep = 0; rep < v.reps; rep++) {
            if (life.stopping) throw new Error('interrupted');
            fs.rmSync(remoteRoot, { recursive: true, force: true });
            for (const phase of ['first', 'second', 'check']) {
              // no await between this check and run(): nothing is created in a work dir being removed
              if (life.stopping) throw new Error('interrupted');
              const check = phase === 'check';
              let r;
              if (v.tool === 'tsplay') {
                r = await run(process.execPath, [path.join(ROOT, 'bin/tsplay'), 'run', pb, '-i', inv, '--known-hosts', fleet.knownHosts,
                  '--host-key-checking', 'strict', '-f', String(n), ...(check ? ['--check'] : [])], { env: { NO_COLOR: '1' }, timeoutS: o.timeout, cwd: ROOT });
              } else {
                // mitogen is tuned Ansible plus the Mitogen strategy: -f N as well
                const variant = v.tool.slice('ansible-'.length);
                const tuned = variant !== 'default';
                const cp = fs.mkdtempSync(path.join(work, 'cp-'));
                r = await run('ansible-playbook', [pb, '-i', inv, ...(tuned ? ['-f', String(n)] : []), ...(check ? ['--check'] : [])], {
                  env: {
                    ANSIBLE_CONFIG: path.join(pbDir, `ansible-${variant}.cfg`),
                    ANSIBLE_SSH_COMMON_ARGS: `-o UserKnownHostsFile=${fleet.knownHosts} -o StrictHostKeyChecking=yes`,
                    // a fresh ControlPath dir per run: every run starts without warm masters, as tsplay does
                    ANSIBLE_SSH_CONTROL_PATH_DIR: cp,
                    ANSIBLE_NOCOLOR: '1',
                    ANSIBLE_STDOUT_CALLBACK: 'default',
                  },
                  timeoutS: o.timeout,
                  cwd: pbDir,
                  sampleTree: true,
                });
                // ControlPersist masters of this run: ask each to exit, by its socket
                for (const s of fs.readdirSync(cp)) {
                  try {
                    execFileSync('ssh', ['-o', `ControlPath=${path.join(cp, s)}`, '-O', 'exit', 'bench'], { stdio: 'ignore', timeout: 5000 });
                  } catch {
                    // master already gone
                  }
                }
              }
              const rc = recap(r.stdout);
              const bad =
                r.timedOut ? `timed out after ${o.timeout} s` :
                r.code !== 0 ? `exit ${r.code}` :
                rc.hosts !== n ? `recap lists ${rc.hosts}/${n} hosts` :
                rc.failed || rc.unreachable ? `failed=${rc.failed} unreachable=${rc.unreachable}` :
                phase === 'first' && rc.changed < n * 15 ? `first run changed only ${rc.changed}` :
                phase !== 'first' && rc.changed !== 0 ? `${phase} run changed=${rc.changed} (expected 0)` : '';
              if (bad) {
                problems.push(`${v.tool} N=${n} facts=${facts} ${phase}: ${bad}`);
                const f = `/tmp/tsplay-bench-fail-${v.tool}-${n}-${facts}-${phase}.log`;
                fs.writeFileSync(f, `${r.stdout}\n--- stderr ---\n${r.stderr}`);
                log(`PROBLEM ${problems[problems.length - 1]} (output in ${f})`);
              }
              results.push({ n, facts, tool: v.tool, phase, rep, ms: r.ms, rssKiB: r.rssKiB, treeKiB: r.treeKiB, changed: rc.changed, ok: !bad });
              log(`${v.tool.padEnd(15)} N=${n} facts=${facts} ${phase.padEnd(6)} rep ${rep + 1}/${v.reps}: ${(r.ms / 1000).toFixed(2)} s, ` +
                `changed=${rc.changed}, RSS ${(r.rssKiB / 1024).toFixed(0)} MiB${r.treeKiB ? ` (tree ${(r.treeKiB / 1024).toFixed(0)} MiB)` : ''}${bad ? ' ' + bad : ''}`);
              if (phase === 'second' && rep === 0) {
                digests[v.tool] = hosts.map((h) => treeDigest(path.join(remoteRoot, h.name))).join(',');
                // kept for `diff -r` when the tools disagree
                const keep = path.join(os.tmpdir(), `tsplay-bench-trees-${n}-${facts}`, v.tool);
                fs.rmSync(keep, { recursive: true, force: true });
                fs.cpSync(path.join(remoteRoot, hosts[0].name), keep, { recursive: true, verbatimSymlinks: true });
              }
            }
          }
        }
        const tools = Object.keys(digests);
        for (const t of tools.slice(1)) {
          if (digests[t] !== digests[tools[0]]) problems.push(`N=${n} facts=${facts}: the hosts' trees differ between ${tools[0]} and ${t} (first host's trees: ${os.tmpdir()}/tsplay-bench-trees-${n}-${facts}/)`);
        }
        for (let rep = 0; rep < o.reps; rep++) {
          for (const kind of ['exec', 'shell']) {
            const r = await run(process.execPath, [__filename, '--floor-child', floorSpec(trips), kind], { timeoutS: 120, cwd: ROOT });
            if (r.code !== 0) problems.push(`${kind} floor N=${n}: exit ${r.code}: ${r.stderr.slice(0, 500)}`);
            results.push({ n, facts, tool: `floor-${kind}`, phase: 'all', rep, ms: r.ms, rssKiB: r.rssKiB, treeKiB: 0, changed: 0, ok: r.code === 0 });
          }
        }
      }
      out(table(results, o, [n]));
    }
    out('');
    out(`## ansible-playbook vs tsplay (${new Date().toISOString().slice(0, 10)}; ${ansibleVersion}; tsplay reps ${o.reps}, Ansible reps ${o.ansibleReps})`);
    out('');
    out(table(results, o, o.ns));
    if (problems.length) {
      out('\nProblems:');
      for (const p of problems) out(`- ${p}`);
      process.exitCode = 2;
    } else out('\nAll runs checked: first run changed, second and check runs changed=0, no failures, same trees from every tool.');
  } finally {
    if (o.json) fs.writeFileSync(o.json, JSON.stringify(results, null, 1));
    await cleanup();
  }
}

/** One table from several --json files (runs split to fit a time budget). */
function report(files) {
  // files written before the exec floor existed call the persistent-shell floor just "floor"
  const results = files.flatMap((f) => JSON.parse(fs.readFileSync(f, 'utf8'))).map((r) => (r.tool === 'floor' ? { ...r, tool: 'floor-shell' } : r));
  const ns = [...new Set(results.map((r) => r.n))].sort((a, b) => a - b);
  const facts = ['off', 'on'].filter((f) => results.some((r) => r.facts === f));
  const ansible = ANSIBLES.filter((v) => results.some((r) => r.tool === `ansible-${v}`));
  out(table(results, { facts, ansible }, ns));
  const count = (f) => results.filter(f).length;
  out(`\n${count((r) => !r.ok)} of ${results.length} runs failed a recap check (exit, failed/unreachable, changed counts); ` +
    `runs: tsplay ${count((r) => r.tool === 'tsplay')}, ansible ${count((r) => r.tool.startsWith('ansible'))}, floor ${count((r) => r.tool.startsWith('floor'))}. ` +
    'Tree comparisons between the tools are printed by the measuring runs.');
}

function table(results, o, ns) {
  const med = (f) => {
    const rs = results.filter(f);
    return { s: median(rs.map((r) => r.ms)) / 1000, rss: median(rs.map((r) => r.rssKiB)) / 1024, tree: median(rs.map((r) => r.treeKiB)) / 1024, n: rs.length };
  };
  const fx = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(1)}x` : '-');
  const head = ['N', 'facts', 'run', 'tsplay s', 'exec floor s', 'tsplay/exec floor', 'shell floor s', 'tsplay/shell floor', 'tsplay RSS MiB'];
  for (const v of o.ansible) head.push(`ansible ${v} s`, `${v}/tsplay`);
  if (o.ansible.length) head.push('ansible RSS MiB main / tree');
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const n of ns) {
    for (const facts of o.facts) {
      const execFloor = med((r) => r.n === n && r.facts === facts && r.tool === 'floor-exec');
      const shellFloor = med((r) => r.n === n && r.facts === facts && r.tool === 'floor-shell');
      for (const phase of ['first', 'second', 'check']) {
        const t = med((r) => r.n === n && r.facts === facts && r.tool === 'tsplay' && r.phase === phase);
        if (!t.n) continue;
        const row = [n, facts, phase, fx(t.s), fx(execFloor.s), ratio(t.s, execFloor.s), fx(shellFloor.s), ratio(t.s, shellFloor.s), fx(t.rss, 0)];
        const rss = [];
        for (const v of o.ansible) {
          const a = med((r) => r.n === n && r.facts === facts && r.tool === `ansible-${v}` && r.phase === phase);
          row.push(fx(a.s), ratio(a.s, t.s));
          if (a.n) rss.push(`${v[0]}: ${fx(a.rss, 0)} / ${fx(a.tree, 0)}`);
        }
        if (o.ansible.length) row.push(rss.join(', ') || '-');
        lines.push(`| ${row.join(' | ')} |`);
      }
    }
  }
  return lines.join('\n');
}

onSignals();
main(process.argv.slice(2)).catch(async (e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exitCode = 1;
  await cleanup();
});
