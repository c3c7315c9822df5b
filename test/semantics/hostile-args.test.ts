/**
 * Issue 12, hostile input: module arguments and become variables whose values a program could
 * read as options (`-delete`, `--command=...`, `-R`) or as extra input lines. Run by the real CLI
 * over the local connection in a throw-away directory, which is also the shell's cwd, so a value
 * read as an option acts on files the test watches. Each case asserts that nothing it did not
 * ask for ran (no marker, the watched tree unchanged) and that the task either did exactly the
 * literal thing or failed with a clear error (no stack trace).
 */
import fs from 'fs';
import path from 'path';
import { makeProject, results, runTsplay, treeHash, type TsplayRun } from '../helpers/run-tsplay';

jest.setTimeout(120_000);

const MARK = 'PWNED-tsplay-h12';

interface Case {
  /** the tasks, as YAML under `tasks:` (indented 4) */
  tasks: string;
  vars?: Record<string, unknown>;
  check?: boolean;
  /** extra files in the project (the watched tree) */
  files?: Record<string, string>;
}

/** A project with a few files to watch, `watched/` and a directory named like an option. */
function project(c: Case): string {
  return makeProject({
    'hosts.ini': 'localhost ansible_connection=local\n',
    'host_vars/localhost.yml': JSON.stringify(c.vars ?? {}),
    'site.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n${c.tasks}\n`,
    'watched/a.txt': 'a\n',
    'watched/sub/b.txt': 'b\n',
    'keep.txt': 'keep\n',
    ...c.files,
  });
}

function run(dir: string, c: Case): TsplayRun {
  return runTsplay(['run', 'site.yml', '-i', 'hosts.ini', '--format', 'json', ...(c.check ? ['--check'] : [])], { cwd: dir });
}

/** Everything a failed task said, for matching the error. */
function failures(r: TsplayRun): string {
  return results(r)
    .filter((e) => e.status === 'failed')
    .map((e) => JSON.stringify(e))
    .join('\n') + r.stderr;
}

function noStack(r: TsplayRun): void {
  expect(r.stderr + r.stdout).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/);
}

function markers(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name.includes(MARK)) out.push(path.join(d, e.name));
      if (e.isDirectory()) walk(path.join(d, e.name));
    }
  };
  walk(dir);
  return out.concat(['/' + MARK, '/tmp/' + MARK].filter((p) => fs.existsSync(p)));
}

describe('option-looking paths reach programs as operands', () => {
  it('--check of file recurse on a relative path "-delete" deletes nothing (find read it as its -delete action)', () => {
    const c: Case = {
      check: true,
      vars: { p: '-delete' },
      files: { '-delete/inside.txt': 'x\n' },
      tasks: `    - file: { path: "{{ p }}", state: directory, recurse: true, mode: "0700" }`,
    };
    const dir = project(c);
    const before = treeHash(dir);
    const r = run(dir, c);
    noStack(r);
    expect(fs.existsSync(path.join(dir, 'keep.txt'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'watched/sub/b.txt'))).toBe(true);
    expect(fs.existsSync(path.join(dir, '-delete/inside.txt'))).toBe(true);
    expect(treeHash(dir)).toBe(before);
    expect(r.code).toBe(0);
  });
});
