/**
 * Issue 4's lab e2e: every HA module on a real Debian host (lab6) over real SSH, through the
 * real CLI. For each module group one playbook (test/e2e/fixtures/modules) runs three times:
 *   1. --check --diff: exit 0, the change is reported, and NOTHING changed on the host;
 *   2. for real: the change is made;
 *   3. again: changed=0.
 * plus the failure cases the issue names (missing unit, unit that fails to start, validation
 * failure, unknown user, filtered port, unsynchronized clock, wait timeout).
 *
 * Works ONLY on lab6 (`lab up 6` adds it next to lab1..lab5, which are shared and are never
 * targeted: the play pattern is always lab6 and every recap is checked to hold lab6 alone).
 * lab1..lab5 are only probed on port 22 from lab6 (port-check, wait_for).
 *
 * Every effect is verified from OUTSIDE tsplay, through `test/lab/lab exec lab6 ...`.
 */
import { spawn, spawnSync } from 'child_process';
import crypto from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { quote } from '../../runner/shell-quote';
import { BIN, ROOT, recap, results, runTsplay, type TsplayRun } from '../helpers/run-tsplay';
import { hostTreeHash, LAB, labExec, labIp, labSh, tail } from './helpers-lab';

const HOST = 'lab6';
const IP = labIp(HOST);
const PEERS = ['lab1', 'lab2', 'lab3', 'lab4', 'lab5'];
const FIX = path.join(ROOT, 'test', 'e2e', 'fixtures', 'modules');
const STATE = path.join(ROOT, 'test', 'lab', '.state');
const STEP_MS = 180_000;
const TREE = '/srv/tsplay-e2e-modules/tree';
const BACKUPS = '/var/backups/tsplay-e2e';
/** the directories a check run must leave exactly as they were (file-owner adds /srv) */
const DIRS = ['/etc', '/home', '/var/backups'];

let invDir = '';
let inv = '';

function say(line: string): void {
  process.stdout.write(`[modules e2e] ${line}\n`);
}

interface Run extends TsplayRun {
  seconds: number;
}

/** `tsplay run FIXTURE -i INV ARGS --format json`; the recap must name lab6 and nothing else. */
function play(fixture: string, args: string[] = []): Run {
  const t0 = Date.now();
  const r = runTsplay(['run', path.join(FIX, fixture), '-i', inv, ...args, '--format', 'json'], { cwd: ROOT, timeoutMs: STEP_MS - 20_000 });
  const run = { ...r, seconds: (Date.now() - t0) / 1000 };
  const rc = run.events.find((e) => e.type === 'recap');
  if (rc && Object.keys(rc.hosts).join(',') !== HOST) throw new Error(`a run touched more than ${HOST}: ${Object.keys(rc.hosts).join(', ')}`);
  return run;
}

function expectExit(run: TsplayRun, code: number): void {
  if (run.code !== code) throw new Error(`expected exit ${code}\n${tail(run)}`);
}

function changed(run: TsplayRun): number {
  return recap(run).hosts[HOST].changed;
}

/** The one host_result of a task. */
function task(run: TsplayRun, name: string): Record<string, any> {
  const r = results(run, name).filter((e) => e.host === HOST);
  if (r.length !== 1) throw new Error(`expected one result for task '${name}', got ${r.length}\n${tail(run)}`);
  return r[0];
}

/** State that the files do not show: units, packages, accounts, firewall tables. */
const STATE_SCRIPT = [
  'systemctl is-active nginx tsplay-e2e-hello 2>&1',
  'systemctl is-enabled nginx tsplay-e2e-hello 2>&1',
  'systemctl show -p MainPID,NRestarts nginx',
  `dpkg-query -W -f '\${Status} \${Version}\\n' nginx 2>&1`,
  'getent passwd tsplay_e2e; getent group tsplay_e2e_ops',
  'nft list tables',
  'ls -la /run/tsplay-e2e-hello 2>&1',
].join('; ');

/** A fingerprint of lab6: every entry (owner, mode, mtime, content) under `dirs`, plus STATE_SCRIPT. */
function fingerprint(dirs: string[] = DIRS): string {
  return `${hostTreeHash(HOST, dirs)}\n${labExec(HOST, STATE_SCRIPT).stdout}`;
}

/**
 * The three runs. The check run must exit 0 and leave the fingerprint as it was; the real run
 * must exit 0; the rerun must exit 0 with changed=0.
 */
function threeRuns(fixture: string, opts: { args?: string[]; dirs?: string[] } = {}): { check: Run; real: Run; rerun: Run } {
  const args = opts.args ?? [];
  const before = fingerprint(opts.dirs);
  const check = play(fixture, ['--check', '--diff', ...args]);
  expectExit(check, 0);
  expect(fingerprint(opts.dirs)).toBe(before);
  const real = play(fixture, args);
  expectExit(real, 0);
  const rerun = play(fixture, args);
  expectExit(rerun, 0);
  if (changed(rerun) !== 0) throw new Error(`the rerun of ${fixture} changed something\n${tail(rerun)}`);
  say(`${fixture}: check ${check.seconds.toFixed(2)} s (changed=${changed(check)}), real ${real.seconds.toFixed(2)} s (changed=${changed(real)}), rerun ${rerun.seconds.toFixed(2)} s (changed=0)`);
  return { check, real, rerun };
}

const sha256 = (s: string | Buffer): string => crypto.createHash('sha256').update(s).digest('hex');

/** sha256 of a file on lab6 from outside ('absent' when it does not exist). */
function remoteSha(file: string): string {
  return labSh(HOST, `if [ -f ${quote(file)} ]; then sha256sum < ${quote(file)} | cut -d' ' -f1; else echo absent; fi`).trim();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One strace line `read(0, "x", 1) = 1` -> the byte it read. */
function straceByte(line: string): string | undefined {
  const m = /^read\(0, "((?:[^"\\]|\\.)*)", 1\)\s*=\s*1$/.exec(line.trim());
  if (!m) return undefined;
  const esc: Record<string, string> = { n: '\n', t: '\t', r: '\r', v: '\v', f: '\f', '"': '"', '\\': '\\' };
  return m[1].replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, e: string) =>
    e[0] === 'x' ? String.fromCharCode(parseInt(e.slice(1), 16)) : /^[0-7]/.test(e) ? String.fromCharCode(parseInt(e, 8)) : (esc[e] ?? e),
  );
}

/**
 * Runs file-owner.yml with its gate, and counts the command lines that tsplay's persistent shell
 * on lab6 reads after the gate opens, i.e. the round trips of the file-owner task. The shell's
 * `read` takes one byte per read(2) (see runner/connection/shell-session.ts), so an strace of
 * the shell (not of its children) shows every command line; a command's own stdin goes to its
 * `head -c`, a child, and is not counted.
 */
async function runCountingRoundTrips(args: string[]): Promise<{ run: Run; commands: string[] }> {
  const log = '/tmp/tsplay-e2e-strace.txt';
  labSh(HOST, `rm -f /tmp/tsplay-e2e-gate ${log}`);
  // the shell of the previous run may linger a moment after that run ended: wait for it to go, so
  // the shell found below is this run's
  const drivers = () => labExec(HOST, "pgrep -f 'tsplay[-]ready' || true").stdout.trim();
  for (let i = 0; i < 50 && drivers(); i++) await sleep(200);
  if (drivers()) throw new Error(`a tsplay shell is still running on ${HOST}: ${drivers()}`);
  const t0 = Date.now();
  const child = spawn(process.execPath, [BIN, 'run', path.join(FIX, 'file-owner.yml'), '-i', inv, '-e', 'gate=true', ...args, '--format', 'json'], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  try {
    // the oldest process running the driver is the shell itself (its subshells share its argv)
    let pid = '';
    for (let i = 0; i < 100 && !pid; i++) {
      pid = labExec(HOST, "pgrep -o -f 'tsplay[-]ready' || true").stdout.trim();
      if (!pid) await sleep(200);
    }
    if (!pid) throw new Error('no tsplay shell appeared on lab6');
    labSh(
      HOST,
      [
        `setsid strace -q -p ${pid} -e trace=read -e signal=none -s 4 -o ${log} </dev/null >/dev/null 2>&1 &`,
        `for i in $(seq 100); do grep -q '^TracerPid:[[:space:]]*[1-9]' /proc/${pid}/status && break; sleep 0.05; done`,
        `grep -q '^TracerPid:[[:space:]]*[1-9]' /proc/${pid}/status`,
        'touch /tmp/tsplay-e2e-gate',
      ].join('\n'),
    );
  } catch (e) {
    child.kill();
    throw e;
  }
  const code = await exited;
  const events = stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, any>);
  const run: Run = { code, stdout, stderr, events, seconds: (Date.now() - t0) / 1000 };
  // strace ends when the shell does (the run closed its connection); give it a moment to flush
  let trace = '';
  for (let i = 0; i < 50; i++) {
    const r = labExec(HOST, `pgrep -x strace >/dev/null && echo running; cat ${log}`);
    trace = r.stdout;
    if (!trace.startsWith('running')) break;
    await sleep(100);
  }
  const text = trace
    .split('\n')
    .map(straceByte)
    .filter((b): b is string => b !== undefined)
    .join('');
  // complete lines only; the gate's wait_for line was read before strace attached, but skip it if not
  const lines = text.split('\n').slice(0, -1);
  const commands = lines.filter((l) => !l.includes('tsplay-e2e-gate'));
  return { run, commands };
}

/** What a command line of the persistent shell runs (the `__c='...'` part), shortened. */
function commandSummary(line: string): string {
  const m = /^__c='(.*?)'; printf/.exec(line);
  const c = (m ? m[1] : line).split(`'"$__nl"'`).join('; ').replace(/\s+/g, ' ');
  return c.length > 100 ? `${c.slice(0, 100)}...` : c;
}

/** Puts lab6 back as the tests expect it. Package removal only when asked (it takes seconds). */
function resetLab6(opts: { removeNginx: boolean }): void {
  const stockConf = fs.readFileSync('/etc/nginx/nginx.conf');
  labSh(
    HOST,
    [
      'systemctl disable --now tsplay-e2e-hello.service nginx.service >/dev/null 2>&1',
      'rm -f /etc/systemd/system/tsplay-e2e-*.service /run/tsplay-e2e-hello',
      'systemctl daemon-reload; systemctl reset-failed >/dev/null 2>&1',
      'rm -f /etc/nginx/conf.d/tsplay-e2e-*.conf /etc/nginx/nginx.conf.2* /etc/nginx/.tsplay-tmp-*',
      // the machine's nginx.conf is the one the lab hosts booted with (their lower layer)
      `printf %s ${stockConf.toString('base64')} | base64 -d > /etc/nginx/nginx.conf`,
      'chown root:root /etc/nginx/nginx.conf; chmod 0644 /etc/nginx/nginx.conf',
      'userdel -r tsplay_e2e >/dev/null 2>&1; groupdel tsplay_e2e_ops >/dev/null 2>&1',
      'rm -f /etc/sudoers.d/tsplay_e2e /etc/sudoers.d/tsplay_e2e_bad',
      `rm -rf /srv/tsplay-e2e-modules ${BACKUPS} /tmp/tsplay-e2e-*`,
      'nft delete table inet tsplay_e2e >/dev/null 2>&1',
      // (nginx-common stays: its config and unit file are what a reinstall finds, as on a real host)
      opts.removeNginx ? 'DEBIAN_FRONTEND=noninteractive apt-get remove -y -q nginx >/dev/null 2>&1' : ':',
      opts.removeNginx ? "! dpkg-query -W -f '${Status}' nginx 2>/dev/null | grep -q 'ok installed'" : ':',
    ].join('\n'),
    120_000,
  );
}

/**
 * lab6 up, without disturbing lab1..lab5. `lab up 6` boots every host up to lab6, so it would
 * START a host that someone powered off on purpose (a failover drill on the shared lab): when one
 * of them is down, lab6 is started alone (`lab start`) if it exists, else the test stops.
 */
function ensureLab6(): void {
  const lab = (args: string[]) => spawnSync(LAB, args, { encoding: 'utf8', timeout: 180_000 });
  const status = lab(['status']).stdout ?? '';
  if (new RegExp(`^${HOST}\\s+up\\s.*ssh=ok`, 'm').test(status)) return;
  const down = PEERS.filter((h) => new RegExp(`^${h}\\s+down\\b`, 'm').test(status));
  let r;
  if (down.length === 0) r = lab(['up', '6']);
  else if (new RegExp(`^${HOST}\\s+down\\b`, 'm').test(status)) r = lab(['start', HOST]);
  else throw new Error(`${down.join(', ')} powered off (a drill on the shared lab?): not running \`lab up 6\`, which would start ${down.length > 1 ? 'them' : 'it'}`);
  if (r.status !== 0) throw new Error(`bringing ${HOST} up failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
}

/**
 * The peers (lab1..lab5) whose sshd answers now. The lead engineer's drills power hosts off and
 * on meanwhile, so the tests that probe peers choose them just before they run.
 */
function peersUp(): string[] {
  const status = spawnSync(LAB, ['status'], { encoding: 'utf8', timeout: 60_000 }).stdout ?? '';
  const up = PEERS.filter((h) => new RegExp(`^${h}\\s+up\\s.*ssh=ok`, 'm').test(status));
  if (!up.length) throw new Error(`none of ${PEERS.join(', ')} is up: nothing for lab6 to probe\n${status}`);
  return up;
}

/** The throw-away inventory: lab6, plus `peers` (only ever probed from lab6, never a play target). */
function writeInventory(peers: string[]): void {
  const group = Object.fromEntries(peers.map((h) => [h, { ansible_host: labIp(h) }]));
  fs.writeFileSync(
    path.join(invDir, 'hosts.yml'),
    JSON.stringify({ all: { hosts: { [HOST]: { ansible_host: IP } }, children: { peers: { hosts: group } } } }, null, 2) + '\n',
  );
}

beforeAll(() => {
  ensureLab6();
  invDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-modules-e2e-'));
  writeInventory(PEERS);
  fs.mkdirSync(path.join(invDir, 'group_vars'));
  // as inventories/lab/group_vars/all.yml, with absolute paths to the lab key and known_hosts
  fs.writeFileSync(
    path.join(invDir, 'group_vars', 'all.yml'),
    [
      'ansible_user: root',
      `ansible_ssh_private_key_file: ${JSON.stringify(path.join(STATE, 'id_lab'))}`,
      `tsplay_known_hosts_file: ${JSON.stringify(path.join(STATE, 'known_hosts'))}`,
      'tsplay_host_key_checking: strict',
      '',
    ].join('\n'),
  );
  inv = invDir;
  resetLab6({ removeNginx: true });
}, STEP_MS);

afterAll(() => {
  if (invDir) fs.rmSync(invDir, { recursive: true, force: true });
  // lab6 stays up; only what the tests made goes (nginx stays installed, stopped and disabled)
  resetLab6({ removeNginx: false });
}, STEP_MS);

test('package: installs nginx on lab6 (check lists it, then installs, then nothing to do)', () => {
  const status = () => labExec(HOST, "dpkg-query -W -f '${Status}' nginx").stdout;
  expect(status()).not.toMatch(/ok installed/);
  const { check, real } = threeRuns('package.yml');
  expect(changed(check)).toBe(1);
  expect(task(check, 'nginx installed').msg).toBe('would install nginx');
  expect(task(real, 'nginx installed').status).toBe('changed');
  expect(task(real, 'nginx installed').result.installed).toEqual(['nginx']);
  expect(status()).toBe('install ok installed');
  expect(labSh(HOST, 'nginx -v 2>&1')).toMatch(/nginx version/);
  say(`package: apt-get install nginx took ${(task(real, 'nginx installed').duration_ms / 1000).toFixed(2)} s`);
}, STEP_MS);

test('template: a failing validate leaves nginx.conf untouched; --diff; backup; idempotent', () => {
  const conf = '/etc/nginx/nginx.conf';
  const stock = remoteSha(conf);
  expect(stock).not.toBe('absent');

  // the validator (nginx -t on the temp file) rejects the rendering: nothing changes
  const bad = play('template.yml', ['-e', 'nginx_worker_connections=banana']);
  expectExit(bad, 2);
  const badResult = task(bad, 'nginx.conf');
  expect(badResult.status).toBe('failed');
  expect(badResult.msg).toMatch(/validation of \/etc\/nginx\/nginx\.conf failed/);
  expect(badResult.msg).toMatch(/invalid number "banana"/); // the validator's own words
  expect(badResult.msg).toMatch(/the file was not changed/);
  expect(remoteSha(conf)).toBe(stock);
  expect(labSh(HOST, 'ls -a /etc/nginx')).not.toMatch(/tsplay-tmp|nginx\.conf\.2/);

  const { check, real } = threeRuns('template.yml');
  const c = task(check, 'nginx.conf');
  expect(c.status).toBe('changed');
  expect(c.diff).toHaveLength(1);
  expect(c.diff[0].path).toBe(conf);
  expect(c.diff[0].before).toMatch(/worker_connections 768;/);
  expect(c.diff[0].after).toMatch(/worker_connections 64;/);
  expect(c.diff[0].after).toMatch(/"marker": "tsplay-e2e-v1"/);
  expect(task(real, 'nginx.conf').status).toBe('changed');

  // the new file is in place with its attributes, nginx accepts it, and the stock one is kept
  const after = labSh(HOST, `stat -c '%U:%G %a' ${conf}; grep -c 'worker_connections 64;' ${conf}; nginx -t -q && echo nginx-t-ok`);
  expect(after.split('\n')).toEqual(['root:root 644', '1', 'nginx-t-ok', '']);
  const backups = labSh(HOST, 'ls /etc/nginx | grep "^nginx\\.conf\\." || true').trim().split('\n').filter(Boolean);
  expect(backups).toHaveLength(1);
  expect(backups[0]).toMatch(/^nginx\.conf\.\d{8}-\d{6}$/);
  expect(remoteSha(`/etc/nginx/${backups[0]}`)).toBe(stock);
  expect(remoteSha(conf)).not.toBe(stock);
}, STEP_MS);

test('service: nginx started and enabled (check changes nothing, then starts, then idempotent)', () => {
  expect(labExec(HOST, 'systemctl is-active nginx; systemctl is-enabled nginx').stdout).toBe('inactive\ndisabled\n');
  const { check, real } = threeRuns('service.yml');
  const c = task(check, 'nginx');
  expect(c.status).toBe('changed');
  expect(c.msg).toBe('would: enable nginx; start nginx');
  expect(task(real, 'nginx').result.state).toBe('started');
  expect(labExec(HOST, 'systemctl is-active nginx; systemctl is-enabled nginx').stdout).toBe('active\nenabled\n');
  // the templated configuration is what runs: both servers listen
  const ports = labSh(HOST, "ss -Hltn | awk '{print $4}'");
  expect(ports).toMatch(/:80\b/);
  expect(ports).toMatch(/:8081\b/);
}, STEP_MS);

test('uri: GETs from lab6 against its nginx (JSON parsed); a POST is not sent in check mode; a 404 fails', () => {
  const { check, real } = threeRuns('uri.yml');
  expect(changed(check)).toBe(0);
  const st = task(real, 'status endpoint');
  expect(st.result.status).toBe(200);
  expect(st.result.json).toEqual({ host: 'lab6', marker: 'tsplay-e2e-v1' });
  expect(task(real, 'default page').result.content).toMatch(/Welcome to nginx/);
  say(`uri: GET of the status endpoint took ${(st.result.elapsed * 1000).toFixed(1)} ms on lab6 (task ${st.duration_ms} ms)`);

  const posts = () => Number(labSh(HOST, "grep -c 'POST /status?tsplay-e2e-post' /var/log/nginx/access.log || true").trim());
  const before = posts();
  const post = play('uri-post.yml', ['--check']);
  expectExit(post, 0);
  expect(task(post, 'post').status).toBe('changed');
  expect(task(post, 'post').msg).toMatch(/would: POST http:\/\/127\.0\.0\.1:8081\/status\?tsplay-e2e-post/);
  expect(posts()).toBe(before);

  const missing = play('uri-404.yml');
  expectExit(missing, 2);
  expect(task(missing, 'missing page').msg).toMatch(/returned status 404 \(expected 200\)/);
  expect(task(missing, 'missing page').result.status).toBe(404);
}, STEP_MS);

test('service: restarted always changes (a new main PID each time)', () => {
  const pid = () => labSh(HOST, 'systemctl show -p MainPID --value nginx').trim();
  const pids = [pid()];
  for (let i = 0; i < 2; i++) {
    const run = play('service.yml', ['-e', 'state=restarted']);
    expectExit(run, 0);
    expect(changed(run)).toBe(1);
    pids.push(pid());
  }
  expect(new Set(pids).size).toBe(3);
  expect(pids.every((p) => Number(p) > 0)).toBe(true);
}, STEP_MS);

test('service: stopped (check leaves it running, then stops it, then idempotent)', () => {
  const { check } = threeRuns('service.yml', { args: ['-e', 'state=stopped'] });
  expect(task(check, 'nginx').msg).toBe('would: stop nginx');
  expect(labExec(HOST, 'systemctl is-active nginx; systemctl is-enabled nginx').stdout).toBe('inactive\nenabled\n');
}, STEP_MS);

test('service: a unit that does not exist is a clear failure', () => {
  const run = play('service.yml', ['-e', 'unit=tsplay-e2e-no-such-unit']);
  expectExit(run, 2);
  expect(task(run, 'nginx').msg).toBe('unit tsplay-e2e-no-such-unit does not exist');
}, STEP_MS);

test('service: a unit that fails to start fails the task with its journal lines', () => {
  // nginx's ExecStartPre (nginx -t) rejects a broken snippet, so `systemctl start` fails
  labSh(HOST, "echo 'tsplay_e2e_oops;' > /etc/nginx/conf.d/tsplay-e2e-broken.conf");
  try {
    const run = play('service.yml');
    expectExit(run, 2);
    const r = task(run, 'nginx');
    expect(r.msg).toMatch(/^start nginx failed \(rc=1\)/);
    expect(r.msg).toMatch(/unknown directive "tsplay_e2e_oops" in \/etc\/nginx\/conf\.d\/tsplay-e2e-broken\.conf/);
    expect(r.result.journal).toMatch(/Failed to start nginx\.service/);
    // only this start attempt: not the journal of the earlier starts and stops
    expect(r.result.journal).not.toMatch(/Stopped nginx\.service|Started nginx\.service/);
    expect(labExec(HOST, 'systemctl is-active nginx').stdout.trim()).toBe('failed');
  } finally {
    labSh(HOST, 'rm -f /etc/nginx/conf.d/tsplay-e2e-broken.conf; systemctl reset-failed nginx');
  }
}, STEP_MS);

test('systemd_unit + service: a new unit written, daemon-reloaded, started and enabled', () => {
  const unit = '/etc/systemd/system/tsplay-e2e-hello.service';
  const { check } = threeRuns('systemd-unit.yml');
  expect(changed(check)).toBe(2);
  expect(task(check, 'hello unit').diff[0].before).toBe('');
  expect(task(check, 'hello started').msg).toMatch(/does not exist now; assuming an earlier task creates it/);
  const out = labSh(HOST, `stat -c '%U:%G %a' ${unit}; systemctl is-active tsplay-e2e-hello; systemctl is-enabled tsplay-e2e-hello; cat /run/tsplay-e2e-hello`);
  expect(out).toBe('root:root 644\nactive\nenabled\nhello from tsplay\n');
  expect(labSh(HOST, `cat ${unit}`)).toMatch(/^ExecStart=\/bin\/sh -c 'echo hello from tsplay > \/run\/tsplay-e2e-hello'$/m);
}, STEP_MS);

test('file-owner: a tree of 10,000 files in one or two round trips; a rerun changes 0; drift; unknown user', async () => {
  // the tree, from outside, in one lab exec: 100 directories of 100 files, owned by root
  const t0 = Date.now();
  labSh(HOST, `mkdir -p ${TREE} && cd ${TREE} && for d in $(seq -f d%03g 1 100); do mkdir "$d" && (cd "$d" && touch $(seq -f f%03g 1 100)); done`);
  const made = (Date.now() - t0) / 1000;
  const count = (expr: string) => Number(labSh(HOST, `find ${TREE} ${expr} | wc -l`).trim());
  expect(count('-type f')).toBe(10_000);
  const entries = count('');
  expect(entries).toBe(10_101);
  const notWww = "\\( ! -user www-data -o ! -group www-data \\)";
  const notRoot = "\\( ! -user root -o ! -group root \\)";

  // 1. check: the count, nothing chowned
  const before = fingerprint([...DIRS, '/srv']);
  const check = play('file-owner.yml', ['--check', '--diff']);
  expectExit(check, 0);
  expect(fingerprint([...DIRS, '/srv'])).toBe(before);
  const c = task(check, 'tree owned by www-data');
  expect(c.status).toBe('changed');
  expect(c.msg).toBe(`would: chown ${entries} entries under ${TREE}`);
  expect(c.diff[0].before).toBe(`root:root: ${entries} entries\n`);
  expect(count(notRoot)).toBe(0);

  // 2. real, with the round trips counted on the host
  const { run: real, commands } = await runCountingRoundTrips([]);
  expectExit(real, 0);
  const r = task(real, 'tree owned by www-data');
  expect(r.status).toBe('changed');
  expect(r.result).toMatchObject({ entries, changed_entries: entries });
  expect(count(notWww)).toBe(0);
  say(`file-owner: ${entries} entries (10,000 files) chowned in ${r.duration_ms} ms, ${commands.length} round trips: ${commands.map((c, i) => `[${i + 1}] ${commandSummary(c)}`).join(' ')}`);
  expect(commands.length).toBeGreaterThanOrEqual(1);
  expect(commands.length).toBeLessThanOrEqual(2);

  // 3. rerun: nothing to change, one round trip
  const { run: rerun, commands: rerunCommands } = await runCountingRoundTrips([]);
  expectExit(rerun, 0);
  expect(changed(rerun)).toBe(0);
  expect(task(rerun, 'tree owned by www-data').result).toMatchObject({ entries, changed_entries: 0 });
  say(`file-owner: rerun over ${entries} entries, nothing to change: ${task(rerun, 'tree owned by www-data').duration_ms} ms, ${rerunCommands.length} round trip(s); tree made from outside in ${made.toFixed(2)} s`);
  expect(rerunCommands.length).toBe(1);

  // drift: 37 entries given back to root; exactly those change
  labSh(HOST, `cd ${TREE}/d042 && chown root:root $(seq -f f%03g 1 36) && chown root ${TREE}/d077`);
  const drift = play('file-owner.yml');
  expectExit(drift, 0);
  expect(task(drift, 'tree owned by www-data').result).toMatchObject({ entries, changed_entries: 37 });
  expect(count(notWww)).toBe(0);

  // an unknown user fails clearly and chowns nothing
  const unknown = play('file-owner.yml', ['-e', 'tree_owner=tsplay_e2e_nobody']);
  expectExit(unknown, 2);
  expect(task(unknown, 'tree owned by www-data').msg).toBe('user tsplay_e2e_nobody does not exist on lab6');
  expect(count(notWww)).toBe(0);
}, STEP_MS);

test('user + group: a system group, a user in it, and a sudoers drop-in checked by visudo', () => {
  const { check } = threeRuns('users.yml');
  expect(changed(check)).toBe(2);
  expect(task(check, 'ops group').msg).toBe('would: create group tsplay_e2e_ops');
  expect(task(check, 'ops user').msg).toMatch(/group tsplay_e2e_ops not there yet \(check mode: assumed created by an earlier task\)/);

  const pw = labSh(HOST, 'getent passwd tsplay_e2e').trim().split(':');
  expect([pw[5], pw[6]]).toEqual(['/home/tsplay_e2e', '/bin/bash']);
  const gr = labSh(HOST, 'getent group tsplay_e2e_ops').trim().split(':');
  expect(Number(gr[2])).toBeLessThan(1000); // a system group
  expect(labSh(HOST, 'id -Gn tsplay_e2e').trim().split(' ')).toContain('tsplay_e2e_ops');
  expect(labSh(HOST, 'stat -c %U:%G /home/tsplay_e2e').trim()).toBe('tsplay_e2e:tsplay_e2e');
  expect(labSh(HOST, "stat -c '%U:%G %a' /etc/sudoers.d/tsplay_e2e").trim()).toBe('root:root 440');
  expect(labSh(HOST, 'cat /etc/sudoers.d/tsplay_e2e')).toBe('# managed by tsplay (user module)\ntsplay_e2e ALL=(ALL:ALL) NOPASSWD: ALL\n');
  labSh(HOST, 'visudo -c -q');
  expect(labSh(HOST, 'sudo -l -U tsplay_e2e')).toMatch(/\(ALL : ALL\) NOPASSWD: ALL/);
  expect(labSh(HOST, 'runuser -u tsplay_e2e -- sudo -n id -un').trim()).toBe('root');

  // visudo really guards a drop-in: a broken one is refused and never reaches /etc/sudoers.d
  const bad = play('sudoers-invalid.yml');
  expectExit(bad, 2);
  expect(task(bad, 'broken drop-in').msg).toMatch(/validation of \/etc\/sudoers\.d\/tsplay_e2e_bad failed/);
  expect(labSh(HOST, 'ls -a /etc/sudoers.d')).not.toMatch(/tsplay_e2e_bad|tsplay-tmp/);
  labSh(HOST, 'visudo -c -q && sudo -n true');
}, STEP_MS);

test('port-check: sshd listening, a free port, lab1..lab5 sshd reachable from lab6, refused passes in firewall mode', () => {
  const peers = peersUp();
  writeInventory(peers);
  const { real } = threeRuns('port-check.yml');
  const r = task(real, 'listeners and peers');
  expect(r.msg).toBe(`${2 + peers.length} checks passed`);
  expect(r.result.checks).toEqual([
    { from: HOST, to: `${HOST}:22`, expected: 'listening', got: 'listening', ok: true },
    { from: HOST, to: `${HOST}:8089`, expected: 'free', got: 'free', ok: true },
    ...peers.map((h) => ({ from: HOST, to: `${h} (${labIp(h)}):22`, expected: 'open', got: 'open', ok: true })),
  ]);
  const fw = task(real, 'firewall mode, nothing listens yet');
  expect(fw.result.checks).toEqual([{ from: HOST, to: `${IP}:9998`, expected: 'open or refused', got: 'refused', ok: true }]);
  say(`port-check: 1 listening + 1 free + ${peers.length} peers' sshd (${peers.join(', ')}) in ${r.duration_ms} ms (one round trip); refused probe in ${fw.duration_ms} ms`);
}, STEP_MS);

test('port-check: a port dropped by nftables on lab6 is reported filtered and fails, in one table', () => {
  labSh(
    HOST,
    [
      'nft add table inet tsplay_e2e',
      "nft add chain inet tsplay_e2e input '{ type filter hook input priority 0; policy accept; }'",
      'nft add rule inet tsplay_e2e input tcp dport 9999 drop',
    ].join(' && '),
  );
  const peer = peersUp()[0];
  try {
    const run = play('port-check-filtered.yml', ['-e', `peer=${peer}`]);
    expectExit(run, 2);
    const r = task(run, 'firewall check');
    expect(r.status).toBe('failed');
    expect(r.result.failed_checks).toBe(1);
    expect(r.result.checks.map((c: { to: string; got: string; ok: boolean }) => [c.to, c.got, c.ok])).toEqual([
      [`${IP}:9999`, 'filtered (timeout)', false],
      [`${IP}:9998`, 'refused', true],
      [`${peer}:22`, 'open', true],
    ]);
    // one table of every failing pair, and only those
    expect(r.msg).toMatch(new RegExp(`^port-check failed on lab6: 1 of 3 checks\\nFROM +TO +EXPECTED +GOT\\nlab6 +${IP.replace(/\./g, '\\.')}:9999 +open or refused +filtered \\(timeout\\)$`));
    // the probes run in parallel: about one 1 s timeout, not three
    expect(r.duration_ms).toBeGreaterThanOrEqual(900);
    expect(r.duration_ms).toBeLessThan(2500);
    say(`port-check: filtered port (nftables drop, 1000 ms timeout) + refused + open probed in parallel: task ${r.duration_ms} ms`);
  } finally {
    labSh(HOST, 'nft delete table inet tsplay_e2e');
  }
  expect(labSh(HOST, 'nft list tables')).not.toMatch(/tsplay_e2e/);
}, STEP_MS);

test('ntp-check: offset from the controller reported (require_sync: false); require_sync fails clearly on the lab', () => {
  const { real } = threeRuns('ntp-check.yml');
  const r = task(real, 'clock').result;
  expect(r.source).toBe('timedatectl');
  expect(r.synchronized).toBe(false);
  expect(typeof r.offset_ms).toBe('number');
  expect(Math.abs(r.offset_ms)).toBeLessThan(500);
  expect(task(real, 'clock').msg).toMatch(/^offset [+-]\d+\.\d ms \(rtt \d+\.\d ms\), synchronized: no \(timedatectl\) \(not required\)$/);
  say(`ntp-check: lab6 offset ${r.offset_ms} ms from the controller (rtt ${r.rtt_ms} ms; the lab shares the machine's clock)`);

  const strict = play('ntp-check.yml', ['-e', 'require_sync=true']);
  expectExit(strict, 2);
  expect(task(strict, 'clock').msg).toMatch(/^ntp-check failed on lab6: clock not synchronized \(timedatectl: NTPSynchronized=no\) \[offset [+-]\d+\.\d ms/);
}, STEP_MS);

test('archive: check mode writes nothing and says what it would create; each real run makes a tarball of /etc/nginx', () => {
  const list = () => labSh(HOST, `ls ${BACKUPS} 2>/dev/null || true`).trim().split('\n').filter(Boolean);
  const before = fingerprint();
  const check = play('archive.yml', ['--check']);
  expectExit(check, 0);
  expect(fingerprint()).toBe(before);
  const c = task(check, 'back up nginx');
  expect(c.status).toBe('skipped');
  expect(c.msg).toMatch(new RegExp(`^check mode: no backup taken \\(a real run creates ${BACKUPS}/nginx-YYYYMMDD-HHMMSS\\.tar\\.gz\\)$`));
  expect(labExec(HOST, `test -e ${BACKUPS}`).code).not.toBe(0);

  const real = play('archive.yml');
  expectExit(real, 0);
  const a = task(real, 'back up nginx').result;
  expect(a.archive).toMatch(new RegExp(`^${BACKUPS}/nginx-\\d{8}-\\d{6}\\.tar\\.gz$`));
  expect(list()).toEqual([path.posix.basename(a.archive)]);
  expect(labSh(HOST, `stat -c '%a %s' ${a.archive}`).trim()).toBe(`600 ${a.size}`);
  expect(labSh(HOST, `tar -tzf ${a.archive}`).split('\n')).toContain('nginx/nginx.conf');
  // the archived nginx.conf is the one on the host
  expect(sha256(labSh(HOST, `tar -xzOf ${a.archive} nginx/nginx.conf`))).toBe(remoteSha('/etc/nginx/nginx.conf'));

  // a backup is always a change: the rerun makes a second archive (not changed=0, by design)
  const again = play('archive.yml');
  expectExit(again, 0);
  expect(changed(again)).toBe(1);
  expect(list()).toHaveLength(2);
  say(`archive: /etc/nginx -> ${a.size} bytes in ${task(real, 'back up nginx').duration_ms} ms`);
}, STEP_MS);

test('wait_for: lab1:22 from lab6 and a closed local port; a port that never opens times out', () => {
  const peer = peersUp()[0];
  const { real } = threeRuns('wait-for.yml', { args: ['-e', `peer=${peer}`] });
  expect(task(real, 'peer sshd').result).toMatchObject({ elapsed: 0, state: 'started', port: 22 });
  expect(task(real, '8089 closed here').result).toMatchObject({ elapsed: 0, state: 'stopped', port: 8089 });

  const run = play('wait-for-timeout.yml');
  expectExit(run, 2);
  const r = task(run, 'nothing listens on 8089');
  expect(r.msg).toBe('Timeout when waiting for 127.0.0.1:8089 (started) after 2 s');
  // the timeout is a minimum (it gave up after 1.78 s when it counted whole seconds)
  expect(r.duration_ms).toBeGreaterThanOrEqual(2000);
  expect(r.duration_ms).toBeLessThan(6000);
  say(`wait_for: ${peer}:22 from lab6 in ${task(real, 'peer sshd').duration_ms} ms; a 2 s timeout failed after ${r.duration_ms} ms`);
}, STEP_MS);
