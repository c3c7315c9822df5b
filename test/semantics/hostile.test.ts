/**
 * Issue 7, hostile input: inventory variables and registered results holding values a shell
 * would interpret (spaces, quotes, `$(...)`, backticks, newlines, `;rm`, globs, unicode) reach
 * command/shell arguments, file paths, copy content, lineinfile lines and template variables,
 * run by the real CLI over the local connection. Every file must hold the value byte for byte,
 * every path must be the literal value, and the marker the values try to create must never exist.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { makeProject, recap, results, runTsplay, type TsplayRun } from '../helpers/run-tsplay';

jest.setTimeout(180_000);

const MARK = 'PWNED-tsplay-h7';

/** Usable as a file name too: no '/', no NUL. */
const HOSTILE = [
  'two words',
  "it's",
  '"double quoted"',
  `$(touch ${MARK})`,
  `\`touch ${MARK}\``,
  'line1\nline2',
  `;rm -rf PWNDIR;touch ${MARK}`,
  `&& touch ${MARK}`,
  `| touch ${MARK}`,
  `'; touch ${MARK}; echo '`,
  `"$(touch ${MARK})"`,
  `\\$(touch ${MARK})`,
  'ünïcødé ✓ 文字 \u202e',
  '$HOME ${PATH} $1',
  '*',
  '-n',
  ' leading and trailing ',
  'tab\there',
  '>redirect <in 2>&1',
];

/** Where a relative `touch MARK` could land, plus the absolute one some values name. */
function markerPlaces(dir: string): string[] {
  return [dir, path.join(dir, 'out'), os.homedir(), '/', os.tmpdir(), process.cwd()].map((d) => path.join(d, MARK));
}

let dir: string;
let out: string;
let absMark: string;
let run: TsplayRun;
/** the INI [all:vars] value, as written */
const INI_VALUE = `a b $(touch ${MARK}) \`touch ${MARK}\`;rm -f x "q" 'q'`;

beforeAll(() => {
  dir = makeProject({});
  out = path.join(dir, 'out');
  absMark = path.join(dir, `${MARK}-abs`);
  fs.mkdirSync(out);
  // values with an absolute marker path: content and arguments only (a '/' cannot be in a name)
  const contentOnly = [`$(touch ${absMark})`, `\`touch ${absMark}\``, `x; touch ${absMark}`];
  fs.writeFileSync(path.join(dir, 'hosts.ini'), `localhost ansible_connection=local\n\n[all:vars]\nini_value=${INI_VALUE}\n`);
  fs.mkdirSync(path.join(dir, 'host_vars'));
  // JSON is YAML: the exact strings, whatever they contain
  fs.writeFileSync(path.join(dir, 'host_vars', 'localhost.yml'),
    `hostile: ${JSON.stringify(HOSTILE)}\ncontent_only: ${JSON.stringify(contentOnly)}\nout: ${JSON.stringify(out)}\n`);
  fs.mkdirSync(path.join(dir, 'templates'));
  fs.writeFileSync(path.join(dir, 'templates', 'value.j2'), 'value=[{{ v }}]\n');
  fs.writeFileSync(path.join(dir, 'site.yml'), `
- hosts: all
  gather_facts: false
  tasks:
    - name: the INI value
      debug: { var: ini_value }

    - name: argv words
      command:
        argv: [printf, "%s", "{{ item }}"]
      loop: "{{ hostile + content_only + [ini_value] }}"
      register: echoed

    - name: free-form command with quote
      command: printf %s {{ item | quote }}
      loop: "{{ hostile + content_only + [ini_value] }}"
      register: quoted

    - name: free-form command without quote, no shell, nothing may run
      command: echo {{ item }}
      loop: "{{ hostile + content_only + [ini_value] }}"
      ignore_errors: true

    - name: shell with quote
      shell: printf %s {{ item | quote }} > {{ (out ~ '/shell-' ~ i) | quote }}
      loop: "{{ hostile }}"
      loop_control: { index_var: i }

    - name: copy content to a hostile path
      copy:
        content: "{{ item }}"
        dest: "{{ out }}/copy-{{ i }}-{{ item }}"
        mode: "0640"
      loop: "{{ hostile }}"
      loop_control: { index_var: i }

    - name: copy of content_only values
      copy:
        content: "{{ item }}"
        dest: "{{ out }}/content-{{ i }}"
      loop: "{{ content_only + [ini_value] }}"
      loop_control: { index_var: i }

    - name: lineinfile
      lineinfile:
        path: "{{ out }}/lines-{{ i }}-{{ item }}"
        line: "{{ item }}"
        create: true
      loop: "{{ hostile }}"
      loop_control: { index_var: i }

    - name: touch
      file:
        path: "{{ out }}/touch-{{ i }}-{{ item }}"
        state: touch
      loop: "{{ hostile }}"
      loop_control: { index_var: i }

    - name: directory
      file:
        path: "{{ out }}/dir-{{ i }}-{{ item }}"
        state: directory
        mode: "0750"
      loop: "{{ hostile }}"
      loop_control: { index_var: i }

    - name: chdir into it
      command: pwd
      args:
        chdir: "{{ out }}/dir-{{ i }}-{{ item }}"
      loop: "{{ hostile }}"
      loop_control: { index_var: i }
      register: cwd

    - name: creates a hostile path that exists (skips)
      command: touch {{ (out ~ '/never-' ~ i) | quote }}
      args:
        creates: "{{ out }}/copy-{{ i }}-{{ item }}"
      loop: "{{ hostile }}"
      loop_control: { index_var: i }

    - name: template
      template:
        src: templates/value.j2
        dest: "{{ out }}/tpl-{{ i }}-{{ item }}"
      vars:
        v: "{{ item }}"
      loop: "{{ hostile }}"
      loop_control: { index_var: i }

    - name: stat
      stat:
        path: "{{ out }}/copy-{{ i }}-{{ item }}"
      loop: "{{ hostile }}"
      loop_control: { index_var: i }
      register: stats

    - name: registered results into copy content and a path
      copy:
        content: "{{ item.stdout }}"
        dest: "{{ out }}/reg-copy-{{ i }}-{{ item.stdout if '/' not in item.stdout else 'slash' }}"
      loop: "{{ echoed.results }}"
      loop_control: { index_var: i, label: "{{ i }}" }

    - name: registered results into lineinfile
      lineinfile:
        path: "{{ out }}/reg-lines-{{ i }}"
        line: "{{ item.stdout }}"
        create: true
      loop: "{{ echoed.results }}"
      loop_control: { index_var: i, label: "{{ i }}" }

    - name: registered results into shell
      shell: printf %s {{ item.stdout | quote }} > {{ (out ~ '/reg-shell-' ~ i) | quote }}
      loop: "{{ echoed.results }}"
      loop_control: { index_var: i, label: "{{ i }}" }

    - name: registered results as template vars
      template:
        src: templates/value.j2
        dest: "{{ out }}/reg-tpl-{{ i }}"
      vars:
        v: "{{ item.stdout }}"
      loop: "{{ echoed.results }}"
      loop_control: { index_var: i, label: "{{ i }}" }

    - name: output that looks like a template
      command:
        argv: [printf, "%s", "{{ '{{' }} inner {{ '}}' }} {{ '{%' }} if true {{ '%}' }}x{{ '{%' }} endif {{ '%}' }}"]
      register: looks
      vars:
        inner: SHOULD-NOT-BE-RENDERED

    - name: carried through set_fact
      set_fact:
        carried: "{{ looks.stdout }}"

    - name: written, not rendered again
      copy:
        content: "{{ carried }}"
        dest: "{{ out }}/reg-copy-template-like"
      vars:
        inner: SHOULD-NOT-BE-RENDERED
`);
  run = runTsplay(['run', path.join(dir, 'site.yml'), '-i', path.join(dir, 'hosts.ini'), '--format', 'json'], { cwd: dir });
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The per-item results of a looped task (the event that carries `results`). */
function loopResults(task: string): Array<Record<string, any>> {
  const e = results(run, task).find((x) => Array.isArray(x.result?.results));
  if (!e) throw new Error(`no loop result for ${task}:\n${run.stdout.slice(0, 4000)}\n${run.stderr}`);
  return e.result.results;
}

const read = (rel: string): string => fs.readFileSync(path.join(out, rel), 'utf8');
const ALL = (): string[] => [...HOSTILE, `$(touch ${absMark})`, `\`touch ${absMark}\``, `x; touch ${absMark}`, INI_VALUE];

test('the run succeeds', () => {
  const failed = results(run).filter((e) => e.status === 'failed' && e.task !== 'free-form command without quote, no shell, nothing may run').map((e) => `${e.task}: ${JSON.stringify(e.result).slice(0, 1500)}`);
  expect({ code: run.code, stderr: run.stderr, failed }).toEqual({ code: 0, stderr: '', failed: [] });
  expect(recap(run).hosts.localhost.failed).toBe(0);
});

test('no marker was created anywhere, nothing ran that the values name', () => {
  for (const p of [...markerPlaces(dir), absMark]) expect({ p, exists: fs.existsSync(p) }).toEqual({ p, exists: false });
  // a split or an expanded value would leave stray names in out/: only the expected ones are there
  const prefixes = ['shell-', 'copy-', 'content-', 'lines-', 'touch-', 'dir-', 'tpl-', 'reg-copy-', 'reg-lines-', 'reg-shell-', 'reg-tpl-'];
  const stray = fs.readdirSync(out).filter((n) => !prefixes.some((p) => n.startsWith(p)));
  expect(stray).toEqual([]);
  expect(fs.readdirSync(out).filter((n) => n.startsWith('never-'))).toEqual([]);
});

test('the INI variable is read as written', () => {
  expect(results(run, 'the INI value')[0].result.ini_value).toBe(INI_VALUE);
});

test('command arguments (argv, and a quoted free form) arrive as one literal word', () => {
  const argv = loopResults('argv words');
  const quoted = loopResults('free-form command with quote');
  expect(argv.map((r) => r.stdout)).toEqual(ALL().map((v) => v.replace(/\n+$/, '')));
  expect(quoted.map((r) => r.stdout)).toEqual(argv.map((r) => r.stdout));
  // unquoted, a value is split into words as a shell would, but never run: only an unbalanced
  // quote may fail the item (Ansible's shlex does the same)
  const raw = loopResults('free-form command without quote, no shell, nothing may run');
  expect(raw).toHaveLength(ALL().length);
  for (const r of raw) {
    if (r.failed) expect(r.msg).toMatch(/cannot split the command line: unterminated/);
    else expect(r.rc).toBe(0);
  }
});

test('shell, copy, lineinfile, template: contents byte for byte at the literal paths', () => {
  HOSTILE.forEach((v, i) => {
    expect({ i, shell: read(`shell-${i}`) }).toEqual({ i, shell: v });
    expect({ i, copy: read(`copy-${i}-${v}`) }).toEqual({ i, copy: v });
    expect(fs.statSync(path.join(out, `copy-${i}-${v}`)).mode & 0o777).toBe(0o640);
    expect({ i, lines: read(`lines-${i}-${v}`) }).toEqual({ i, lines: `${v}\n` });
    expect({ i, tpl: read(`tpl-${i}-${v}`) }).toEqual({ i, tpl: `value=[${v}]\n` });
    expect(read(`touch-${i}-${v}`)).toBe('');
    const d = fs.statSync(path.join(out, `dir-${i}-${v}`));
    expect({ i, dir: d.isDirectory(), mode: d.mode & 0o777 }).toEqual({ i, dir: true, mode: 0o750 });
  });
  [`$(touch ${absMark})`, `\`touch ${absMark}\``, `x; touch ${absMark}`, INI_VALUE].forEach((v, i) => {
    expect({ i, content: read(`content-${i}`) }).toEqual({ i, content: v });
  });
});

test('chdir, creates and stat see the literal paths', () => {
  const cwd = loopResults('chdir into it');
  expect(cwd.map((r) => r.stdout)).toEqual(HOSTILE.map((v, i) => path.join(out, `dir-${i}-${v}`).replace(/\n+$/, '')));
  const creates = loopResults('creates a hostile path that exists (skips)');
  expect(creates.map((r) => r.changed)).toEqual(HOSTILE.map(() => false));
  const stats = loopResults('stat');
  expect(stats.map((r) => ({ exists: r.stat.exists, isreg: r.stat.isreg, size: r.stat.size })))
    .toEqual(HOSTILE.map((v) => ({ exists: true, isreg: true, size: Buffer.byteLength(v) })));
});

test('registered results reach copy, lineinfile, shell and templates unchanged', () => {
  ALL().forEach((v, i) => {
    const name = v.includes('/') ? 'slash' : v;
    expect({ i, copy: read(`reg-copy-${i}-${name}`) }).toEqual({ i, copy: v });
    expect({ i, lines: read(`reg-lines-${i}`) }).toEqual({ i, lines: `${v}\n` });
    expect({ i, shell: read(`reg-shell-${i}`) }).toEqual({ i, shell: v });
    expect({ i, tpl: read(`reg-tpl-${i}`) }).toEqual({ i, tpl: `value=[${v}]\n` });
  });
});

test('a registered result that looks like a template is data, not rendered again', () => {
  expect(read('reg-copy-template-like')).toBe('{{ inner }} {% if true %}x{% endif %}');
});
