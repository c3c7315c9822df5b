import { MultiError, ValidationError, YamlError } from '../../../runner/errors';
import { validateOnly } from '../../../runner/loader/index';
import { cleanupTrees, Tree, fakeCatalog, lines, loadErrors, loader, y } from './helpers';

let t: Tree;
afterEach(cleanupTrees);

async function errorsOf(files: Record<string, string>, main = 'site.yml'): Promise<string[]> {
  t = new Tree(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, y(v)])));
  return lines(await loadErrors(t.p(main)), t.root);
}

describe('file level', () => {
  test('YAML syntax error names its position and is a YamlError', async () => {
    t = new Tree({ 'site.yml': '- hosts: all\n  tasks:\n    - ping: {\n' });
    const errs = await loadErrors(t.p('site.yml'));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toBeInstanceOf(YamlError);
    expect(lines(errs, t.root)).toEqual(['ROOT/site.yml:4:1: YAML syntax error: Flow map in block collection must be sufficiently indented and end with a }']);
  });

  test('a syntax error in one file does not hide errors elsewhere', async () => {
    t = new Tree({
      'site.yml': '- hosts: all\n  tasks:\n    - import_tasks: broken.yml\n    - pingg:\n',
      'broken.yml': '- debug: msg=a\n - when: x\n',
    });
    expect(lines(await loadErrors(t.p('site.yml')), t.root)).toEqual([
      'ROOT/broken.yml:2:2: YAML syntax error: All sequence items must start at the same column',
      "ROOT/site.yml:4:7: unknown module 'pingg' — did you mean 'ping'?",
    ]);
  });

  test('duplicate keys are a syntax error', async () => {
    expect(await errorsOf({ 'site.yml': `
      - hosts: all
        hosts: web
    ` })).toEqual([expect.stringMatching(/^ROOT\/site\.yml:2:3: YAML syntax error: Map keys must be unique/)]);
  });

  test('missing playbook file', async () => {
    t = new Tree({});
    expect(lines(await loadErrors(t.p('nope.yml')), t.root)).toEqual(['ROOT/nope.yml: file not found']);
  });

  test('empty playbook, mapping instead of a list', async () => {
    expect(await errorsOf({ 'site.yml': '\n# nothing\n' })).toEqual(['ROOT/site.yml:1:1: the playbook is empty']);
    expect(await errorsOf({ 'site.yml': 'hosts: all\n' })).toEqual(['ROOT/site.yml:1:1: a playbook must be a list of plays, got a mapping']);
  });

  test('a vault-encrypted file without a password is reported, with a password it is decrypted', async () => {
    t = new Tree({ 'site.yml': '$ANSIBLE_VAULT;1.1;AES256\n3031\n' });
    const errs = await loadErrors(t.p('site.yml'));
    expect(lines(errs, t.root)).toEqual(['ROOT/site.yml:1:1: file is vault-encrypted and no vault password was given']);
    const pb = await loader({ decrypt: (ct) => (ct.startsWith('$ANSIBLE_VAULT') ? '- hosts: secret\n' : ct) }).loadPlaybook(t.p('site.yml'));
    expect(pb.plays[0].hosts).toBe('secret');
  });
});

describe('plays', () => {
  test('not a mapping, missing hosts, unknown and unsupported keywords, bad values — all at once', async () => {
    expect(await errorsOf({ 'site.yml': `
      - just a string
      - name: no hosts here
        tasks: []
      - hosts: all
        gather_fact: no
        vars_prompt: [{ name: pw }]
        module_defaults: {}
        when: x
      - hosts: all
        serial: [1, lots]
        strategy: fre
        max_fail_percentage: 120
        vars: { bad-name: 1, ok: 2 }
        tags: { a: 1 }
        become: maybe
        tasks: { ping: }
      - hosts: ""
        copy: src=a dest=b
      - hosts: all
        vars_files: [missing.yml, ["{{ x }}.yml"], [nope1.yml, nope2.yml]]
        roles: web
    ` })).toEqual([
      'ROOT/site.yml:1:3: a play must be a mapping (keyword: value), got the string \'just a string\'',
      "ROOT/site.yml:2:3: play has no 'hosts'",
      "ROOT/site.yml:5:3: unknown play keyword 'gather_fact' — did you mean 'gather_facts'?",
      "ROOT/site.yml:6:3: 'vars_prompt' is not supported by tsplay",
      "ROOT/site.yml:7:3: 'module_defaults' is not supported by tsplay",
      "ROOT/site.yml:8:3: 'when' is not valid on a play",
      'ROOT/site.yml:10:15: \'serial\' must be a number of hosts, a percentage like "30%", or a list of those, got the string \'lots\'',
      "ROOT/site.yml:11:13: unknown strategy 'fre' — did you mean 'free'?",
      "ROOT/site.yml:12:24: 'max_fail_percentage' must be a number from 0 to 100, got number 120",
      "ROOT/site.yml:13:11: 'bad-name' is not a valid variable name",
      "ROOT/site.yml:14:9: 'tags' must be a string (\"a,b\") or a list of strings, got a mapping",
      "ROOT/site.yml:15:11: 'become' must be a boolean (true/false, yes/no, on/off or 1/0) or a template, got 'maybe'",
      "ROOT/site.yml:16:10: 'tasks' must be a list of tasks, got a mapping",
      "ROOT/site.yml:17:10: 'hosts' must be a host pattern (e.g. 'all', 'db', 'web:&prod') or a list of them, got the string ''",
      "ROOT/site.yml:18:3: unknown play keyword 'copy'",
      "ROOT/site.yml:20:16: vars file 'missing.yml' not found",
      "ROOT/site.yml:20:46: none of the vars files 'nope1.yml', 'nope2.yml' exists",
      "ROOT/site.yml:21:10: 'roles' must be a list of roles, got the string 'web'",
    ]);
  });

  test('a task list given as a playbook says so', async () => {
    t = new Tree({ 'site.yml': '- name: install\n  copy: src=a dest=/b\n' });
    const errs = await loadErrors(t.p('site.yml'));
    expect(lines(errs, t.root)).toEqual(["ROOT/site.yml:2:3: unknown play keyword 'copy'", "ROOT/site.yml:1:3: play has no 'hosts'"]);
    expect(errs[1].hint).toMatch(/this looks like a task/);
    expect(errs[0].hint).toBe("'copy' belongs to a task: put tasks under 'tasks:'");
  });

  test('import_playbook: missing file, bad keyword, templated, cycle', async () => {
    expect(await errorsOf({
      'site.yml': `
        - import_playbook: nope.yml
        - import_playbook: other.yml
          hosts: all
        - import_playbook: "{{ pb }}.yml"
        - import_playbook: loop.yml
      `,
      'other.yml': '- hosts: all\n',
      'loop.yml': '- import_playbook: site.yml\n',
    })).toEqual([
      "ROOT/site.yml:1:20: imported playbook 'nope.yml' not found",
      "ROOT/site.yml:3:3: 'hosts' is not valid on import_playbook",
      "ROOT/site.yml:4:20: import_playbook is resolved when the playbook is loaded, so its file cannot be templated ('{{ pb }}.yml')",
      'ROOT/loop.yml:1:20: import_playbook cycle: ROOT/site.yml -> ROOT/loop.yml -> ROOT/site.yml',
    ]);
  });
});

describe('tasks', () => {
  test('keywords and modules: did-you-mean, no module, conflicting modules, unknown module', async () => {
    expect(await errorsOf({ 'site.yml': `
      - hosts: all
        tasks:
          - name: typo keyword
            debug: msg=hi
            whne: x
          - name: no module
            when: x
          - copy: { src: a, dest: /b }
            file: { path: /b }
          - name: typo module
            copyy: { src: a, dest: /b }
          - community.general.ufw: { rule: allow }
          - pingg:
            regsiter: out
          - command: ls
            loopp: [1]
          - frobnicate: x
          - debug: msg=x
            async: 10
            with_random_choice: [[1], [2]]
          - "just text"
    ` })).toEqual([
      "ROOT/site.yml:5:7: unknown keyword 'whne' — did you mean 'when'?",
      'ROOT/site.yml:6:7: task has no module',
      "ROOT/site.yml:9:7: conflicting modules 'copy' and 'file': a task does exactly one thing",
      "ROOT/site.yml:11:7: unknown module 'copyy' — did you mean 'copy'?",
      "ROOT/site.yml:12:7: unknown module 'community.general.ufw'",
      "ROOT/site.yml:13:7: unknown module 'pingg' — did you mean 'ping'?",
      "ROOT/site.yml:14:7: unknown keyword 'regsiter' — did you mean 'register'?",
      "ROOT/site.yml:16:7: unknown keyword 'loopp' — did you mean 'loop'?",
      "ROOT/site.yml:17:7: unknown module 'frobnicate'",
      "ROOT/site.yml:19:7: 'async' is not supported by tsplay",
      "ROOT/site.yml:20:7: 'with_random_choice' is not supported",
      "ROOT/site.yml:21:7: a task must be a mapping (keyword: value), got the string 'just text'",
    ]);
  });

  test('module arguments: each problem at the argument, k=v and free-form mistakes', async () => {
    const errs = await errorsOf({ 'site.yml': `
      - hosts: all
        tasks:
          - copy:
              src: a
              dset: /b
              mode: 0644
          - file: path=/x state=gone
          - file:
              path: /x
              state: "{{ s }}"
          - copy: these are words
          - copy: dest='/unbalanced
          - service: [a, b]
          - copy: { dest: /x }
            args: "src=a"
          - wait_for:
              port: "{{ p }}"
              host: [not, a, string]
    ` });
    expect(errs).toEqual([
      // a missing argument points at the arguments
      "ROOT/site.yml:4:9: module 'copy': missing required argument 'dest'",
      "ROOT/site.yml:5:9: module 'copy': unsupported argument 'dset'",
      "ROOT/site.yml:6:15: module 'copy': argument 'mode' must be of type string",
      "ROOT/site.yml:7:13: module 'file': argument 'state' must be one of: file, directory, absent, link, touch",
      "ROOT/site.yml:11:13: module 'copy' takes key=value arguments, not free-form text ('these are words')",
      // a k=v splitting error points at the character: the quote that never closes
      "ROOT/site.yml:12:18: cannot split the arguments of 'copy': unbalanced single quote",
      "ROOT/site.yml:13:16: the arguments of 'service' must be a mapping or key=value text, got a list",
      "ROOT/site.yml:15:13: 'args' must be a mapping of module arguments, got the string 'src=a'",
      "ROOT/site.yml:18:15: module 'wait_for': argument 'host' must be of type string",
    ]);
  });

  test('unbalanced template text in k=v arguments points at where it starts', async () => {
    t = new Tree({ 'site.yml': y(`
      - hosts: all
        tasks:
          - copy: dest=/x content="{{ a | default('b') "
          - debug: 'msg={{ x }} var={% if y %}z'
          - action: copy dest=/x content={{ '}}' ~ x
          - shell: |
              echo ok
              echo {{ "a" ~ b }} {% endfor %}
          - include_role: name={{ r
          - debug: "msg=\\t{{ x"
    `) });
    const errs = await loadErrors(t.p('site.yml'));
    expect(errs.every((e) => e instanceof ValidationError && e.location !== undefined)).toBe(true);
    expect(lines(errs, t.root)).toEqual([
      // the closing quote is read as the start of a string inside the expression, as the template engine reads it
      "ROOT/site.yml:3:50: cannot split the arguments of 'copy': unclosed template block '{{': the double-quoted string in it never ends",
      "ROOT/site.yml:4:31: cannot split the arguments of 'debug': '{% if %}' is never closed with '{% endif %}'",
      "ROOT/site.yml:5:36: cannot split 'action': unclosed template block '{{' (no '}}' after it)",
      "ROOT/site.yml:8:28: cannot split the arguments of 'shell': '{% endfor %}' without an open '{% for %}'",
      "ROOT/site.yml:9:26: cannot split 'include_role': unclosed template block '{{' (no '}}' after it)",
      // an escape before the problem: the source does not read like the value, so the value's start and the character
      "ROOT/site.yml:10:14: cannot split the arguments of 'debug': unclosed template block '{{' (no '}}' after it) (character 6 of the value)",
    ]);
    expect(errs[0].hint).toMatch(/literal '\{\{'/);
  });

  test('keyword values: loop_control, retries, notify, register, when, loop, with_dict, listen', async () => {
    expect(await errorsOf({ 'site.yml': `
      - hosts: all
        tasks:
          - debug: msg=x
            loop: [1]
            loop_control: item
          - debug: msg=x
            loop: [1]
            loop_control: { loop_vr: x, pause: soon }
          - debug: msg=x
            until: x
            retries: many
            delay: -1
          - debug: msg=x
            notify: { a: 1 }
            register: "my-result"
          - debug: msg=x
            when: { a: 1 }
            changed_when: [ok, { b: 2 }]
          - debug: msg=x
            loop: { a: 1 }
          - debug: msg=x
            with_dict: [a, b]
          - debug: msg=x
            loop: [1]
            with_items: [2]
          - debug: msg=x
            listen: foo
          - debug: msg=x
            environment: [A]
    ` })).toEqual([
      "ROOT/site.yml:5:21: 'loop_control' must be a mapping (loop_var, index_var, label, pause), got the string 'item'",
      "ROOT/site.yml:8:23: unknown loop_control key 'loop_vr' — did you mean 'loop_var'?",
      "ROOT/site.yml:8:42: 'pause' must be a number of seconds, got the string 'soon'",
      "ROOT/site.yml:11:16: 'retries' must be a number or a template, got the string 'many'",
      "ROOT/site.yml:12:14: 'delay' must be a number or a template, got number -1",
      "ROOT/site.yml:14:15: 'notify' must be a string or a list of strings, got a mapping",
      "ROOT/site.yml:15:17: 'register' must be a variable name (letters, digits, underscores), got the string 'my-result'",
      "ROOT/site.yml:17:13: 'when' must be an expression, a boolean or a list of them, got a mapping",
      "ROOT/site.yml:18:26: each condition in 'changed_when' must be an expression or a boolean, got a mapping",
      "ROOT/site.yml:20:13: 'loop' must be a list or a template giving a list, got a mapping",
      'ROOT/site.yml:22:18: \'with_dict\' must be a mapping or one template expression like "{{ users }}", got a list',
      "ROOT/site.yml:25:7: 'loop' and 'with_items' together: a task has one loop",
      "ROOT/site.yml:27:7: 'listen' is only valid on handlers",
      "ROOT/site.yml:29:20: 'environment' must be a mapping of variable names to values (or a template), got a list",
    ]);
  });

  test('blocks, meta, includes and imports', async () => {
    expect(await errorsOf({
      'site.yml': `
        - hosts: all
          tasks:
            - block:
                - ping:
              loop: [1]
              register: r
              debug: msg=x
              rescu: []
            - rescue:
                - ping:
            - block: ping
            - meta: flush_handler
            - meta: end_play
              loop: [1]
            - import_tasks: nope.yml
            - import_tasks: "{{ f }}.yml"
            - import_tasks: self.yml
            - import_tasks: ok.yml
              loop: [1]
            - include_tasks: ok.yml
              register: r
            - include_tasks: { file: ok.yml, apply: { tags: x } }
            - include_role: { name: r, vars_from: x, tasks_frm: y }
      `,
      'self.yml': '- import_tasks: self.yml\n',
      'ok.yml': '- ping:\n',
      'roles/r/tasks/main.yml': '- ping:\n',
    })).toEqual([
      "ROOT/site.yml:5:7: 'loop' is not valid on a block",
      "ROOT/site.yml:6:7: 'register' is not valid on a block",
      "ROOT/site.yml:7:7: a block cannot also run 'debug'",
      "ROOT/site.yml:8:7: unknown block keyword 'rescu' — did you mean 'rescue'?",
      "ROOT/site.yml:9:7: 'rescue' without 'block'",
      "ROOT/site.yml:11:14: 'block' must be a list of tasks, got the string 'ping'",
      "ROOT/site.yml:12:13: unknown meta action 'flush_handler' — did you mean 'flush_handlers'?",
      "ROOT/site.yml:14:7: 'loop' is not valid on meta",
      "ROOT/site.yml:15:21: imported file 'nope.yml' not found",
      "ROOT/site.yml:16:21: import_tasks is resolved when the playbook is loaded, so its file cannot be templated ('{{ f }}.yml')",
      'ROOT/self.yml:1:17: import_tasks cycle: ROOT/self.yml -> ROOT/self.yml',
      "ROOT/site.yml:19:7: 'loop' is not valid on import_tasks",
      "ROOT/site.yml:21:7: 'register' is not valid on include_tasks",
      "ROOT/site.yml:22:38: unknown include_tasks option 'apply'",
      "ROOT/site.yml:23:32: include_role option 'vars_from' is not supported by tsplay",
      "ROOT/site.yml:23:46: unknown include_role option 'tasks_frm' — did you mean 'tasks_from'?",
    ]);
  });

  test('handlers: notify must name a handler; blocks and meta cannot be handlers', async () => {
    expect(await errorsOf({ 'site.yml': `
      - hosts: all
        tasks:
          - command: a
            notify: [restart nginx, "{{ dynamic }}", reload web, restart ngnix]
        handlers:
          - name: restart nginx
            service: name=nginx state=restarted
          - name: other
            command: x
            listen: reload web
          - block: [{ ping: }]
          - meta: noop
    ` })).toEqual([
      "ROOT/site.yml:11:7: blocks cannot be used as handlers",
      "ROOT/site.yml:12:7: meta cannot be used as a handler",
      "ROOT/site.yml:4:15: notify 'restart ngnix' matches no handler of the play — did you mean 'restart nginx'?",
    ]);
  });

  test('notify is not checked when include_role may bring handlers at run time', async () => {
    t = new Tree({
      'site.yml': y(`
        - hosts: all
          tasks:
            - include_role: { name: "{{ r }}" }
            - command: a
              notify: from the role
      `),
    });
    await expect(loader().loadPlaybook(t.p('site.yml'))).resolves.toBeDefined();
  });
});

describe('collecting', () => {
  test('errors across the playbook, imported files and roles come together in one MultiError', async () => {
    t = new Tree({
      'site.yml': y(`
        - hosts: all
          rolse: [x]
          roles: [r]
          tasks:
            - import_tasks: t.yml
            - debug: msg=ok
              whne: x
      `),
      't.yml': '- copy: src=a\n',
      'roles/r/tasks/main.yml': '- file: path=/x state=nope\n',
      'roles/r/handlers/main.yml': '- name: h\n  servce: name=x\n',
    });
    let caught: unknown;
    try {
      await loader().loadPlaybook(t.p('site.yml'));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(MultiError);
    const m = caught as MultiError;
    expect(m.message).toBe('5 errors found');
    expect(m.errors.every((e) => e instanceof ValidationError)).toBe(true);
    expect(lines(m.errors, t.root)).toEqual([
      "ROOT/site.yml:2:3: unknown play keyword 'rolse' — did you mean 'roles'?",
      "ROOT/roles/r/tasks/main.yml:1:9: module 'file': argument 'state' must be one of: file, directory, absent, link, touch",
      "ROOT/roles/r/handlers/main.yml:2:3: unknown module 'servce' — did you mean 'service'?",
      "ROOT/t.yml:1:9: module 'copy': missing required argument 'dest'",
      "ROOT/site.yml:7:7: unknown keyword 'whne' — did you mean 'when'?",
    ]);
    // describe() gives one line per error (plus hints) for the CLI
    expect(m.describe().split('\n').filter((l) => !l.startsWith('  '))).toHaveLength(5);
  });

  test('a file imported twice reports its errors once', async () => {
    t = new Tree({
      'site.yml': '- hosts: all\n  tasks:\n    - import_tasks: t.yml\n    - import_tasks: t.yml\n',
      't.yml': '- pingg:\n',
    });
    expect(lines(await loadErrors(t.p('site.yml')), t.root)).toEqual(["ROOT/t.yml:1:3: unknown module 'pingg' — did you mean 'ping'?"]);
  });

  test('validateOnly returns every problem, or none', async () => {
    t = new Tree({ 'bad.yml': '- hosts: all\n  tasks: [{ pingg: }, { debug: msg=x, whne: y }]\n', 'good.yml': '- hosts: all\n  tasks: [{ ping: }]\n' });
    expect((await validateOnly(t.p('bad.yml'), { modules: fakeCatalog })).map((e) => e.message)).toEqual([
      "unknown module 'pingg' — did you mean 'ping'?",
      "unknown keyword 'whne' — did you mean 'when'?",
    ]);
    expect(await validateOnly(t.p('good.yml'), { modules: fakeCatalog })).toEqual([]);
  });
});
