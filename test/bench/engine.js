#!/usr/bin/env node
// Engine benchmark: a 500-task playbook on one host over the local connection, run once to
// converge, then measured on the no-change run. Prints tasks per second, the run's peak RSS and
// the start-up cost (tsplay --version and a 1-task run, wall and user+sys CPU).
// A figure printer, not a test: nothing here passes or fails on time.
//   node test/bench/engine.js [TASKS=500] [RUNS=3]
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const TASKS = parseInt(process.argv[2] || '500', 10);
const RUNS = parseInt(process.argv[3] || '3', 10);
const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin', 'tsplay');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-bench-'));
const target = path.join(dir, 'target');

// a realistic mix of no-change tasks: file, copy, lineinfile, template, stat, command+creates
const kinds = [
  (i) => `- file: { path: "${target}/d${i % 20}", state: directory, mode: "0755" }`,
  (i) => `- copy: { dest: "${target}/d${i % 20}/f${i}.txt", content: "content {{ inventory_hostname }} ${i}\\n", mode: "0644" }`,
  (i) => `- lineinfile: { path: "${target}/d${i % 20}/l${i}.txt", line: "extra ${i}", create: true }`,
  (i) => `- template: { src: t.j2, dest: "${target}/d${i % 20}/t${i}.conf" }`,
  (i) => `- stat: { path: "${target}/d${i % 20}" }`,
  (i) => `- command: touch ${target}/c${i}\n  args: { creates: "${target}/c${i}" }`,
];
// the 20 directories first, so every later task has somewhere to write
const tasks = [];
for (let i = 0; i < 20; i++) tasks.push(kinds[0](i).replace(/^/gm, '    '));
for (let i = 20; i < TASKS; i++) tasks.push(kinds[i % kinds.length](i).replace(/^/gm, '    '));
fs.writeFileSync(path.join(dir, 'hosts.ini'), 'bench ansible_connection=local\n');
fs.mkdirSync(path.join(dir, 'templates'));
fs.writeFileSync(path.join(dir, 'templates', 't.j2'), 'host={{ inventory_hostname }}\nport={{ port }}\n');
fs.writeFileSync(
  path.join(dir, 'site.yml'),
  `- hosts: all\n  gather_facts: false\n  vars: { port: 5432 }\n  tasks:\n${tasks.join('\n')}\n`,
);

function runOnce(extra = []) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, bin, 'run', 'site.yml', '-i', 'hosts.ini', '--format', 'json', ...extra], {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const recap = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.type === 'recap');
  const rssKb = parseInt(r.stderr.trim().split('\n').pop(), 10);
  if (r.status !== 0 || !recap) throw new Error(`run failed (${r.status}):\n${r.stderr}\n${r.stdout.slice(-2000)}`);
  return { ms, rssMb: rssKb / 1024, recap };
}

const first = runOnce();
console.log(`first run (converging): ${TASKS} tasks, changed=${first.recap.hosts.bench.changed}, ${first.ms.toFixed(0)} ms wall`);
const rows = [];
for (let i = 0; i < RUNS; i++) rows.push(runOnce());
const changed = rows.map((r) => r.recap.hosts.bench.changed);
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const wall = med(rows.map((r) => r.ms));
const inRun = med(rows.map((r) => r.recap.duration_ms));
console.log(`no-change run, median of ${RUNS}: changed=${changed.join('/')}`);
console.log(`  wall (incl. node start-up, load, validation): ${wall.toFixed(0)} ms -> ${(TASKS / (wall / 1000)).toFixed(0)} tasks/s`);
console.log(`  executor (recap duration):                    ${inRun} ms -> ${(TASKS / (inRun / 1000)).toFixed(0)} tasks/s`);
console.log(`  peak RSS: ${med(rows.map((r) => r.rssMb)).toFixed(1)} MiB`);
const check = runOnce(['--check']);
console.log(`check-mode run: ${check.ms.toFixed(0)} ms wall, changed=${check.recap.hosts.bench.changed}`);

// start-up cost: what every command pays before its first task (module loading, schema
// compiling). Wall and user+sys CPU of the process, median of 10; `node -e 0` for reference.
fs.writeFileSync(path.join(dir, 'one.yml'), `- hosts: all\n  gather_facts: false\n  tasks:\n    - file: { path: "${target}", state: directory }\n`);
function startup(args) {
  const wall = [];
  const cpu = [];
  for (let i = 0; i < 10; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, ...args], { cwd: dir, encoding: 'utf8' });
    wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
    const [u, s] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
    cpu.push((u + s) * 1000);
  }
  return `${med(wall).toFixed(0)} ms wall, ${med(cpu).toFixed(0)} ms user+sys`;
}
console.log('start-up, median of 10:');
console.log(`  node -e 0:                 ${startup(['-e', '0'])}`);
console.log(`  tsplay --version:          ${startup([bin, '--version'])}`);
console.log(`  tsplay run (1 local task): ${startup([bin, 'run', 'one.yml', '-i', 'hosts.ini'])}`);
fs.rmSync(dir, { recursive: true, force: true });
