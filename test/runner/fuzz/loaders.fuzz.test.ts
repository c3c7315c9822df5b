/**
 * Issue 7, hostile input: thousands of mutated playbooks (with roles), INI and YAML
 * inventories, templates and conditions, from a fixed seed, fed to the loaders. Each case must
 * load, or end in a TsplayError whose location names a file (and, for the playbook and
 * inventory loaders, a line). Any other exception, a case running longer than CASE_TIMEOUT_MS,
 * or a socket/process being opened fails the test and prints the seed, the case and its input.
 *
 * The cases run in a worker thread (loader-worker.js) over the built runner, because only
 * another thread can stop a synchronous hang.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { Worker } from 'worker_threads';
import { ROOT } from '../../helpers/run-tsplay';

const SEED = 0x7e57_0007;
const COUNTS = { playbook: 1100, 'ini-inventory': 500, 'yaml-inventory': 500, template: 600, condition: 300 };
const CASE_TIMEOUT_MS = 5_000;

// about 20 s on an idle 2-core machine, 50-70 s while the other suites run beside it: wall time is
// not asserted (the per-case watchdog catches hangs); the jest limit only bounds a stuck worker
jest.setTimeout(300_000);

// ---- seeded randomness (mulberry32) ----

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- valid seeds ----

const PLAYBOOK: Record<string, string> = {
  'site.yml': `- import_playbook: base.yml

- name: web servers
  hosts: web:&prod
  become: true
  serial: 2
  vars:
    port: 8008
    users: [alice, bob]
    opts: { a: 1, b: [x, y] }
  vars_files:
    - vars/common.yml
  pre_tasks:
    - name: check
      assert:
        that:
          - port | int > 1024
          - users | length == 2
  roles:
    - base
    - role: web
      vars: { listen: "{{ port }}" }
      tags: [web]
  tasks:
    - name: shell with a loop
      shell: echo {{ item }} >> /tmp/out
      loop: "{{ users }}"
      when: item != 'root'
      register: echoed
      changed_when: false
    - import_tasks: tasks/extra.yml
    - block:
        - command: /bin/true
          args: { chdir: /tmp }
      rescue:
        - debug: msg="rescued {{ ansible_failed_task.name | default('') }}"
      always:
        - debug: { var: echoed }
  handlers:
    - name: restart web
      service: name=nginx state=restarted
`,
  'base.yml': `- hosts: all
  gather_facts: false
  tasks:
    - ping:
`,
  'vars/common.yml': `common_list:
  - one
  - "two: 2"
  - { three: 3 }
anchor: &a { k: v }
alias: *a
`,
  'tasks/extra.yml': `- name: lineinfile
  lineinfile:
    path: /etc/hosts
    line: "127.0.0.1 {{ inventory_hostname }}"
    regexp: '^127\\.0\\.0\\.1 '
- include_tasks: more.yml
  when: port is defined
`,
  'tasks/more.yml': `- debug:
    msg: more
`,
  'roles/base/tasks/main.yml': `- name: base dir
  file:
    path: /opt/app
    state: directory
    mode: "0755"
`,
  'roles/web/meta/main.yml': `dependencies:
  - role: base
`,
  'roles/web/defaults/main.yml': `listen: 80
conf: /etc/web.conf
`,
  'roles/web/vars/main.yml': `web_user: www-data
`,
  'roles/web/tasks/main.yml': `- name: config
  template:
    src: web.conf.j2
    dest: "{{ conf }}"
    mode: 0644
  notify: restart web
- name: copy a file
  copy:
    content: |
      listen {{ listen }}
    dest: /etc/web.listen
- include_role:
    name: base
  tags: [always]
- name: wait
  wait_for:
    port: "{{ listen }}"
    timeout: 10
`,
  'roles/web/handlers/main.yml': `- name: reload web
  service: { name: nginx, state: reloaded }
`,
  'roles/web/templates/web.conf.j2': `listen {{ listen }};
{% for u in users %}user {{ u }};
{% endfor %}
`,
};
const PLAYBOOK_FILES = Object.keys(PLAYBOOK).filter((f) => f.endsWith('.yml'));

const INI: Record<string, string> = {
  'hosts.ini': `# comment
[web]
web[01:03].example.com ansible_port=2222 tag='a b'
web9 ansible_host=198.18.0.9 ansible_user=deploy

[db]
db1 ansible_host=198.18.0.10 pg_version=15 flags="{'a': [1, 2.5, None, True]}"

[prod:children]
web
db

[prod:vars]
ansible_become=true
ntp_servers=['a', 'b']
`,
  'group_vars/all.yml': `x: 1
list: [a, b]
`,
  'group_vars/web/main.yml': `listen: 80
`,
  'host_vars/db1.yml': `pg_port: 5432
`,
};

const YAML_INV: Record<string, string> = {
  'hosts.yml': `all:
  vars:
    ansible_user: deploy
  children:
    web:
      hosts:
        web[1:3]:
          listen: 80
        web9:
          ansible_host: 198.18.0.9
    db:
      hosts:
        db1: { ansible_host: 198.18.0.10, pg: { version: 15, port: 5432 } }
      vars:
        role: database
    prod:
      children:
        web: {}
        db:
`,
  'group_vars/all.yml': INI['group_vars/all.yml'],
  'host_vars/db1.yml': INI['host_vars/db1.yml'],
};

const TEMPLATES = [
  'listen {{ port }};\n{% for u in users %}user {{ u | upper }};\n{% endfor %}',
  "{% if d.k == 'v' and n is none %}yes{% elif l | length > 2 %}many{% else %}no{% endif %}",
  "{{ l | map('string') | join(',') }} {{ d | dict2items | map(attribute='key') | list }}",
  '{% set x = l[0] + 2 %}{{ x * 3 // 2 }} {{ "%s" | default("z") }} {{ s[1:3] }}',
  "{{ s | regex_replace('(\\\\w)', '\\\\1-') | b64encode }} {{ s is match('^st') }}",
  '{{ {"a": [1, 2], "b": {"c": none}} | to_json }} {{ (1, 2) }} {{ range(3) | list }}',
  '{% raw %}{{ not rendered }}{% endraw %}{{ s ~ "!" }}{% capture c %}{{ port }}{% endcapture %}{{ c }}',
];
const CONDITIONS = [
  "port | int > 1024 and users | length == 2",
  "d.k is defined and d.missing is undefined",
  "'a' in s or l[-1] >= 3",
  "n is none and not (s | bool)",
  "s is version('1.2', '>=') if s is match('\\\\d') else true",
  "{{ port > 1 }}",
];
const VARS = {
  port: 8008,
  users: ['alice', 'bob'],
  s: 'string',
  l: [1, 2, 3],
  d: { k: 'v', nested: { list: [{ a: 1 }] } },
  n: null,
};

// ---- mutations ----

const YAML_PUNCT = [':', ': ', '- ', '-', '[', ']', '{', '}', ',', '&a ', '*a', '*nosuch', '!', '!!str ', '!vault ', '!!binary ',
  '|', '|-', '>', '#', "'", '"', '? ', '%YAML 1.2\n', '---\n', '...\n', '@', '`', '<<: *a', '\t', '\\', '\r\n', '{{', '}}', '{%', '%}'];
const TEMPLATE_PUNCT = ['{{', '}}', '{%', '%}', '{%-', '-%}', '|', '(', ')', '[', ']', '{', '}', "'", '"', '.', '..', ',', ':', '**', '//',
  ' if ', ' else ', ' for x in ', ' endfor ', ' endif ', ' not ', ' is ', ' in ', ' ~ ', '=', '==', ' default(', ' join(', ' map(', '\\', '\n'];
const KEYWORDS = ['hosts', 'tasks', 'roles', 'role', 'block', 'rescue', 'always', 'include_role', 'import_role', 'import_tasks',
  'include_tasks', 'import_playbook', 'loop', 'with_items', 'when', 'notify', 'handlers', 'vars', 'vars_files', 'register', 'name',
  'dependencies', 'serial', 'become', 'tags', 'children', 'args', 'delegate_to', 'listen', 'no_log', 'until', 'retries'];
const HUGE = ['1e400', '-1e400', '99999999999999999999999999999', '0x7fffffffffffffffff', '-0', '.inf', '-.Inf', '.NaN', '0o777777777777777',
  '1_000_000', '9'.repeat(400), '[0:99999999]', '[1:999999999999]', '4294967297', '1.7976931348623157e309'];
const UNICODE = ['é', 'ü', '✓', '😀', '\u202e', '\u200b', '\ufeff', '\u0000', '\u2028', '\u0085', '\ud800', '\udfff', 'ﬁ', '𝒳', '\u00a0', 'İ'];

class Mutator {
  readonly log: string[] = [];
  constructor(private readonly rand: () => number, private readonly punct: string[]) {}
  int(n: number): number {
    return Math.floor(this.rand() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  nesting(): string {
    const depth = 1 + this.int(120);
    switch (this.int(4)) {
      case 0: return '['.repeat(depth) + '1' + ']'.repeat(depth);
      case 1: return '{a: '.repeat(depth) + '1' + '}'.repeat(depth);
      case 2: return '('.repeat(depth) + '1' + ')'.repeat(depth);
      default: return '['.repeat(depth); // unbalanced
    }
  }

  once(s: string): string {
    const at = this.int(s.length + 1);
    const lines = s.split('\n');
    const li = this.int(lines.length);
    switch (this.int(12)) {
      case 0: { // flip a bit of one UTF-16 unit
        if (!s.length) return s;
        const i = Math.min(at, s.length - 1);
        this.log.push(`flip@${i}`);
        return s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ (1 << this.int(8))) + s.slice(i + 1);
      }
      case 1: { // delete a run
        const n = 1 + this.int(this.rand() < 0.8 ? 6 : 200);
        this.log.push(`delete@${at}+${n}`);
        return s.slice(0, at) + s.slice(at + n);
      }
      case 2: { // duplicate a line
        this.log.push(`dupline@${li}`);
        lines.splice(li, 0, lines[li]);
        return lines.join('\n');
      }
      case 3: { // swap two lines
        const lj = this.int(lines.length);
        this.log.push(`swap@${li},${lj}`);
        [lines[li], lines[lj]] = [lines[lj], lines[li]];
        return lines.join('\n');
      }
      case 4: { // punctuation
        const p = this.pick(this.punct);
        this.log.push(`punct@${at}:${JSON.stringify(p)}`);
        return s.slice(0, at) + p + s.slice(at);
      }
      case 5: { // indentation change
        const d = this.pick([-4, -2, -1, 1, 2, 3, 8]);
        this.log.push(`indent@${li}:${d}`);
        lines[li] = d < 0 ? lines[li].replace(new RegExp(`^ {0,${-d}}`), '') : ' '.repeat(d) + lines[li];
        return lines.join('\n');
      }
      case 6: { // a huge or odd number, in place of a number or a word
        const h = this.pick(HUGE);
        this.log.push(`huge:${h.slice(0, 20)}`);
        const m = /\d+|\b[a-z_]+\b/g;
        const all = [...s.matchAll(m)];
        if (!all.length) return s + h;
        const t = this.pick(all);
        return s.slice(0, t.index) + h + s.slice(t.index! + t[0].length);
      }
      case 7: { // deep nesting, within bounds
        const n = this.nesting();
        this.log.push(`nest:${n.length}`);
        return s.slice(0, at) + n + s.slice(at);
      }
      case 8: { // unicode
        const u = this.pick(UNICODE);
        this.log.push(`unicode@${at}:${JSON.stringify(u)}`);
        return s.slice(0, at) + u + s.slice(at);
      }
      case 9: { // a keyword replaced by another
        const k = [...s.matchAll(/\b[a-z_]{3,}\b/g)];
        if (!k.length) return s;
        const t = this.pick(k);
        const w = this.pick(KEYWORDS);
        this.log.push(`word:${t[0]}->${w}`);
        return s.slice(0, t.index) + w + s.slice(t.index! + t[0].length);
      }
      case 10: { // truncate
        this.log.push(`truncate@${at}`);
        return s.slice(0, at);
      }
      default: { // tabs or CRLF line ends
        const crlf = this.rand() < 0.5;
        this.log.push(crlf ? 'crlf' : `tab@${li}`);
        if (crlf) return s.replace(/\n/g, '\r\n');
        lines[li] = lines[li].replace(/^ +/, '\t');
        return lines.join('\n');
      }
    }
  }

  mutate(s: string): string {
    const rounds = 1 + this.int(this.rand() < 0.7 ? 2 : 6);
    for (let r = 0; r < rounds; r++) s = this.once(s);
    return s;
  }
}

// ---- cases ----

type Case =
  | { i: number; kind: 'playbook' | 'ini-inventory' | 'yaml-inventory'; files: Record<string, string>; entry: string; mutated: string; log: string[] }
  | { i: number; kind: 'template' | 'condition'; text: string; vars: Record<string, unknown>; log: string[] };

function makeCases(): Case[] {
  const rand = prng(SEED);
  const cases: Case[] = [];
  type NoIndex<T> = T extends Case ? Omit<T, 'i'> : never;
  const add = (c: NoIndex<Case>) => cases.push({ ...c, i: cases.length } as Case);
  for (let n = 0; n < COUNTS.playbook; n++) {
    const m = new Mutator(rand, YAML_PUNCT);
    const file = m.pick(PLAYBOOK_FILES);
    // the template of the role too, now and then (the loader checks it only when static)
    const files = { ...PLAYBOOK, [file]: m.mutate(PLAYBOOK[file]) };
    add({ kind: 'playbook', files, entry: 'site.yml', mutated: file, log: m.log });
  }
  for (const [kind, seed, entry, count] of [
    ['ini-inventory', INI, 'hosts.ini', COUNTS['ini-inventory']],
    ['yaml-inventory', YAML_INV, 'hosts.yml', COUNTS['yaml-inventory']],
  ] as const) {
    const names = Object.keys(seed);
    for (let n = 0; n < count; n++) {
      const m = new Mutator(rand, YAML_PUNCT);
      // mostly the inventory file itself, sometimes a group_vars/host_vars file
      const file = rand() < 0.75 ? entry : m.pick(names);
      add({ kind, files: { ...seed, [file]: m.mutate(seed[file]) }, entry, mutated: file, log: m.log });
    }
  }
  for (let n = 0; n < COUNTS.template; n++) {
    const m = new Mutator(rand, TEMPLATE_PUNCT);
    add({ kind: 'template', text: m.mutate(m.pick(TEMPLATES)), vars: VARS, log: m.log });
  }
  for (let n = 0; n < COUNTS.condition; n++) {
    const m = new Mutator(rand, TEMPLATE_PUNCT);
    add({ kind: 'condition', text: m.mutate(m.pick(CONDITIONS)), vars: VARS, log: m.log });
  }
  return cases;
}

// ---- running ----

interface ErrInfo { name: string; tsplay: boolean; message: string; location: { file?: string; line?: number; column?: number } | null }
type Outcome = { kind: 'ok' } | { kind: 'tsplay'; errors: ErrInfo[] } | { kind: 'other'; name?: string; stack: string };

function runCases(cases: Case[], dir: string): Promise<{ outcomes: Map<number, Outcome>; touched: string[]; hung?: Case; crash?: string }> {
  return new Promise((resolve, reject) => {
    const outcomes = new Map<number, Outcome>();
    // a memory limit, so an expansion bomb ends this worker (ERR_WORKER_OUT_OF_MEMORY), not the machine
    const worker = new Worker(path.join(__dirname, 'loader-worker.js'), {
      workerData: { dist: path.join(ROOT, 'dist'), dir, cases },
      // and the main thread's stack size (the CLI's), not a worker's larger default
      resourceLimits: { maxOldGenerationSizeMb: 768, stackSizeMb: 1 },
    });
    let current = -1;
    let timer: NodeJS.Timeout | undefined;
    const finish = (r: { touched: string[]; hung?: Case; crash?: string }) => {
      if (timer) clearTimeout(timer);
      void worker.terminate();
      resolve({ outcomes, ...r });
    };
    worker.on('message', (m: { type: string; i: number; outcome: Outcome; touched: string[]; stack: string }) => {
      if (m.type === 'start') {
        current = m.i;
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => finish({ touched: [], hung: cases[current] }), CASE_TIMEOUT_MS);
      } else if (m.type === 'done') {
        outcomes.set(m.i, m.outcome);
      } else if (m.type === 'end') {
        finish({ touched: m.touched });
      } else if (m.type === 'crash') {
        finish({ touched: [], crash: m.stack });
      }
    });
    worker.on('error', (e) => finish({ touched: [], crash: `worker error during case ${current}: ${e.stack ?? e}` }));
    worker.on('exit', (code) => {
      if (outcomes.size < cases.length && !timer) reject(new Error(`worker exited (${code}) after ${outcomes.size} cases`));
    });
  });
}

/** Everything needed to reproduce a case: the seed, the index, the mutations and the input. */
function show(c: Case): string {
  const input = 'files' in c ? `${c.mutated} (of ${c.kind} seed):\n${JSON.stringify(c.files[c.mutated])}` : JSON.stringify(c.text);
  return `seed 0x${SEED.toString(16)} case #${c.i} ${c.kind}, mutations ${c.log.join(' ')}\ninput ${input}`;
}

/** Why an outcome breaks the contract, or null when it keeps it. */
function problem(c: Case, o: Outcome | undefined): string | null {
  if (!o) return 'no outcome';
  if (o.kind === 'ok') return null;
  if (o.kind === 'other') return `a non-TsplayError was thrown: ${o.stack}`;
  if (!o.errors.length) return 'an empty MultiError';
  const needLine = c.kind !== 'template' && c.kind !== 'condition';
  for (const e of o.errors) {
    if (!e.tsplay) return `a MultiError holds a non-TsplayError ${e.name}: ${e.message}`;
    if (!e.location?.file) return `${e.name} without a location file: ${e.message}`;
    if (needLine && e.location.line === undefined) return `${e.name} without a line (${e.location.file}): ${e.message}`;
    if (!e.message.trim()) return `${e.name} with an empty message`;
  }
  return null;
}

test(`${Object.values(COUNTS).reduce((a, b) => a + b)} mutated playbooks, inventories and templates: load, or a located TsplayError`, async () => {
  const cases = makeCases();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-fuzz-'));
  try {
    const { outcomes, touched, hung, crash } = await runCases(cases, dir);
    if (hung) throw new Error(`case ran longer than ${CASE_TIMEOUT_MS} ms (a hang):\n${show(hung)}`);
    if (crash) throw new Error(`the worker crashed: ${crash}`);
    expect(touched).toEqual([]);

    const bad: string[] = [];
    const tally: Record<string, { ok: number; error: number }> = {};
    for (const c of cases) {
      const o = outcomes.get(c.i);
      const p = problem(c, o);
      if (p) bad.push(`${p}\n${show(c)}`);
      const t = (tally[c.kind] ??= { ok: 0, error: 0 });
      if (o?.kind === 'ok') t.ok++;
      else t.error++;
    }
    if (bad.length) {
      throw new Error(`${bad.length} of ${cases.length} cases broke the contract; the first ${Math.min(bad.length, 5)}:\n\n${bad.slice(0, 5).join('\n\n')}`);
    }
    // the mutations must reach both sides: many errors, and harmless changes that still load
    for (const [kind, t] of Object.entries(tally)) {
      expect({ kind, someLoad: t.ok > 10, someFail: t.error > 10 }).toEqual({ kind, someLoad: true, someFail: true });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the seeds themselves load (so the mutations start from valid input)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-fuzz-seed-'));
  try {
    const seeds: Case[] = [
      { i: 0, kind: 'playbook', files: PLAYBOOK, entry: 'site.yml', mutated: 'site.yml', log: [] },
      { i: 1, kind: 'ini-inventory', files: INI, entry: 'hosts.ini', mutated: 'hosts.ini', log: [] },
      { i: 2, kind: 'yaml-inventory', files: YAML_INV, entry: 'hosts.yml', mutated: 'hosts.yml', log: [] },
      ...TEMPLATES.map((text, k): Case => ({ i: 3 + k, kind: 'template', text, vars: VARS, log: [] })),
      ...CONDITIONS.map((text, k): Case => ({ i: 3 + TEMPLATES.length + k, kind: 'condition', text, vars: VARS, log: [] })),
    ];
    const { outcomes, touched } = await runCases(seeds, dir);
    expect(touched).toEqual([]);
    expect(seeds.map((c) => ({ i: c.i, outcome: outcomes.get(c.i) }))).toEqual(seeds.map((c) => ({ i: c.i, outcome: { kind: 'ok' } })));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ---- fixed hostile inputs: expansion bombs and deep nesting, each in its own worker ----

/** A YAML "billion laughs": 9 levels of 10 aliases each expand to 10^9 scalars. */
function aliasBomb(levels = 9): string {
  let s = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i < levels; i++) s += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
  return s;
}
const DEEP = 5000;
const deepList = '['.repeat(DEEP) + ']'.repeat(DEEP);
const deepDict = '{"a": '.repeat(DEEP) + '1' + '}'.repeat(DEEP);

const BOMBS: Array<[string, Case]> = [
  ['INI host range of 10^9 hosts', { i: 0, kind: 'ini-inventory', files: { 'hosts.ini': '[web]\nweb[0:999999999].example.com\n' }, entry: 'hosts.ini', mutated: 'hosts.ini', log: [] }],
  ['YAML inventory host range of 10^8 hosts', { i: 0, kind: 'yaml-inventory', files: { 'hosts.yml': 'all:\n  hosts:\n    web[0:99999999]:\n' }, entry: 'hosts.yml', mutated: 'hosts.yml', log: [] }],
  ['alias bomb in group_vars', { i: 0, kind: 'ini-inventory', files: { 'hosts.ini': '[web]\nw1\n', 'group_vars/all.yml': aliasBomb() }, entry: 'hosts.ini', mutated: 'group_vars/all.yml', log: [] }],
  ['alias bomb in a YAML inventory', { i: 0, kind: 'yaml-inventory', files: { 'hosts.yml': `${aliasBomb()}all:\n  hosts:\n    w1:\n      x: *a8\n` }, entry: 'hosts.yml', mutated: 'hosts.yml', log: [] }],
  ['alias bomb in play vars', { i: 0, kind: 'playbook', files: { 'site.yml': `- hosts: all\n  vars:\n${aliasBomb().replace(/^/gm, '    ')}  tasks:\n    - ping:\n` }, entry: 'site.yml', mutated: 'site.yml', log: [] }],
  [`a list nested ${DEEP} deep in a playbook`, { i: 0, kind: 'playbook', files: { 'site.yml': `- hosts: all\n  vars:\n    x: ${deepList}\n  tasks:\n    - ping:\n` }, entry: 'site.yml', mutated: 'site.yml', log: [] }],
  [`a list nested ${DEEP} deep in an INI group var`, { i: 0, kind: 'ini-inventory', files: { 'hosts.ini': `[web]\nw1\n[web:vars]\nx=${deepList}\n` }, entry: 'hosts.ini', mutated: 'hosts.ini', log: [] }],
  [`a dict nested ${DEEP} deep in an INI group var`, { i: 0, kind: 'ini-inventory', files: { 'hosts.ini': `[web]\nw1\n[web:vars]\nx=${deepDict}\n` }, entry: 'hosts.ini', mutated: 'hosts.ini', log: [] }],
  [`parentheses ${DEEP} deep in a template`, { i: 0, kind: 'template', text: `{{ ${'('.repeat(DEEP)}1${')'.repeat(DEEP)} }}`, vars: VARS, log: [] }],
  ['3000 nested ifs in a template', { i: 0, kind: 'template', text: '{% if 1 %}'.repeat(3000) + 'x' + '{% endif %}'.repeat(3000), vars: VARS, log: [] }],
  ['a loop over a range of 10^9', { i: 0, kind: 'template', text: '{% for i in (1..1000000000) %}{% endfor %}', vars: VARS, log: [] }],
  [`${DEEP} chained filters in a condition`, { i: 0, kind: 'condition', text: `1${' | string'.repeat(DEEP)}`, vars: VARS, log: [] }],
];

describe('fixed hostile inputs', () => {
  test.each(BOMBS)('%s: loads, or a located TsplayError, within the watchdog', async (_name, c) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-fuzz-bomb-'));
    try {
      const { outcomes, touched, hung, crash } = await runCases([c], dir);
      if (hung) throw new Error(`ran longer than ${CASE_TIMEOUT_MS} ms (a hang):\n${show(c).slice(0, 2000)}`);
      if (crash) throw new Error(`the worker crashed: ${crash.slice(0, 2000)}`);
      expect(touched).toEqual([]);
      expect(problem(c, outcomes.get(c.i))).toBeNull();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
