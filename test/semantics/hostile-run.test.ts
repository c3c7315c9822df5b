/**
 * Issue 12, hostile runs: Ctrl-C at awkward moments, input that only fails mid-run
 * (--syntax-check must find it before the first connection), and unbounded include recursion.
 * The real CLI over the local connection. Every case that must change nothing has an earlier
 * task that would create a marker file: it must not exist afterwards.
 */
import { spawn, spawnSync } from 'child_process';
import fs from 'fs';
import path from 'path';
import { BIN, LOCAL_INVENTORY, makeProject, runTsplay } from '../helpers/run-tsplay';

jest.setTimeout(120_000);

interface LiveRun {
  code: number;
  stdout: string;
  stderr: string;
  /** ms from the first SIGINT to the exit */
  afterSigint: number;
}

/** Start the CLI, wait for `ready` (a file), send SIGINT (`count` times), collect the outcome. */
function runAndInterrupt(dir: string, ready: string, count = 1): Promise<LiveRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'run', 'site.yml', '-i', 'hosts'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    let sentAt = 0;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const started = Date.now();
    const poll = setInterval(() => {
      if (sentAt === 0 && fs.existsSync(path.join(dir, ready))) {
        sentAt = Date.now();
        clearInterval(poll);
        for (let i = 0; i < count; i++) setTimeout(() => child.kill('SIGINT'), i * 100);
      } else if (Date.now() - started > 60_000) {
        clearInterval(poll);
        child.kill('SIGKILL');
        reject(new Error(`never got ready\n${stdout}\n${stderr}`));
      }
    }, 20);
    child.on('exit', (code) => {
      clearInterval(poll);
      resolve({ code: code ?? -1, stdout, stderr, afterSigint: sentAt ? Date.now() - sentAt : -1 });
    });
  });
}

/** Processes whose argv is exactly `args` (a unique sleep duration tags each test's sleep). */
function running(args: string): number {
  const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((l) => l.trim() === args).length;
}

/** a sleep duration of about 30 s that no other test uses */
const tag = (): string => `30.${process.pid % 1000}${Date.now() % 1000}`;

describe('Ctrl-C', () => {
  test('during the last task, a long command: interrupted at once, exit 130, "interrupted", the command is gone', async () => {
    const t = tag();
    const dir = makeProject({
      hosts: LOCAL_INVENTORY,
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - name: long
      shell: touch started && exec sleep ${t}
`,
    });
    const r = await runAndInterrupt(dir, 'started');
    expect(r.code).toBe(130);
    expect(r.stdout + r.stderr).toMatch(/interrupted after/);
    expect(r.stdout).not.toMatch(/finished in/);
    expect(r.afterSigint).toBeLessThan(2500);
    expect(running(`sleep ${t}`)).toBe(0);
  });

  test('during a controller-side wait (pause) in the last task: exit 130, not 2', async () => {
    const dir = makeProject({
      hosts: LOCAL_INVENTORY,
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - file: { path: "{{ playbook_dir }}/started", state: touch }
    - pause: { seconds: 20 }
`,
    });
    const r = await runAndInterrupt(dir, 'started');
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/interrupted after/);
    expect(r.afterSigint).toBeLessThan(5000);
  });

  test('a command that ignores SIGINT is killed after a grace period; no later task starts', async () => {
    const t = tag();
    const dir = makeProject({
      hosts: LOCAL_INVENTORY,
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - shell: trap '' INT; touch started; sleep ${t}
    - file: { path: "{{ playbook_dir }}/later", state: touch }
`,
    });
    const r = await runAndInterrupt(dir, 'started');
    expect(r.code).toBe(130);
    expect(r.afterSigint).toBeLessThan(6000);
    expect(fs.existsSync(path.join(dir, 'later'))).toBe(false);
    await new Promise((res) => setTimeout(res, 700));
    expect(running(`sleep ${t}`)).toBe(0);
  });

  test('a write in progress finishes (new content in place, no temp file), then the run stops', async () => {
    const dir = makeProject({
      hosts: LOCAL_INVENTORY,
      'dest.txt': 'old\n',
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - copy:
        content: "new\\n"
        dest: "{{ playbook_dir }}/dest.txt"
        validate: sh -c "touch {{ playbook_dir }}/started; sleep 1.5" %s
    - file: { path: "{{ playbook_dir }}/later", state: touch }
`,
    });
    const r = await runAndInterrupt(dir, 'started');
    expect(r.code).toBe(130);
    expect(fs.readFileSync(path.join(dir, 'dest.txt'), 'utf8')).toBe('new\n');
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('.tsplay-tmp'))).toEqual([]);
    expect(fs.existsSync(path.join(dir, 'later'))).toBe(false);
  });

  test('a second Ctrl-C quits at once, even while a command ignores the first', async () => {
    const t = tag();
    const dir = makeProject({
      hosts: LOCAL_INVENTORY,
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - shell: trap '' INT; touch started; sleep ${t}
`,
    });
    const r = await runAndInterrupt(dir, 'started', 2);
    expect(r.code).toBe(130);
    expect(r.afterSigint).toBeLessThan(1500);
  });
});

describe('include recursion', () => {
  test('include_tasks of itself stops at depth 64 with the chain, quickly', () => {
    const dir = makeProject({
      hosts: LOCAL_INVENTORY,
      'site.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n    - include_tasks: again.yml\n`,
      'again.yml': `- debug: { msg: deeper }\n- include_tasks: again.yml\n`,
    });
    const t0 = Date.now();
    const r = runTsplay(['run', 'site.yml', '-i', 'hosts'], { cwd: dir, timeoutMs: 60_000 });
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/include depth limit \(64\)/);
    expect(r.stdout).toContain(`${path.join(dir, 'site.yml')}:4`);
    expect(r.stdout).toContain(`${path.join(dir, 'again.yml')}:2`);
    expect(r.stdout).not.toMatch(/INTERNAL|\n\s+at /);
    expect((r.stdout.match(/deeper/g) ?? []).length).toBe(64);
  });

  test('include_role of itself ends with an error naming the place (a cycle), not recursion', () => {
    const dir = makeProject({
      hosts: LOCAL_INVENTORY,
      'site.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n    - include_role: { name: loop }\n`,
      'roles/loop/tasks/main.yml': `- include_role: { name: loop }\n`,
    });
    const r = runTsplay(['run', 'site.yml', '-i', 'hosts'], { cwd: dir, timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/include depth limit \(64\)|cycle: loop -> loop/);
    expect(r.stdout).toContain(`${path.join(dir, 'roles/loop/tasks/main.yml')}:1`);
  });
});
