import { cleanupTrees, Tree, block, loader, task, y } from './helpers';
import type { IncludeDef, MetaDef, PlayDef } from '../../../runner/loader/types';

let t: Tree;
afterEach(cleanupTrees);

async function onePlay(yaml: string, files: Record<string, string> = {}): Promise<PlayDef> {
  t = new Tree({ 'site.yml': y(yaml), ...files });
  const pb = await loader().loadPlaybook(t.p('site.yml'));
  expect(pb.plays).toHaveLength(1);
  return pb.plays[0];
}

describe('plays', () => {
  test('every play keyword is mapped', async () => {
    const p = await onePlay(`
      - name: deploy
        hosts: [db, web]
        vars: { a: 1 }
        vars_files: [vars/common.yml, ["vars/{{ env }}.yml", vars/default.yml]]
        gather_facts: no
        become: yes
        become_user: postgres
        become_method: su
        become_flags: -l
        serial: [1, "30%", "2"]
        strategy: free
        max_fail_percentage: 25
        any_errors_fatal: true
        tags: deploy, db
        environment: { LANG: C }
        check_mode: false
        diff: "{{ show_diff }}"
        no_log: on
        ignore_errors: no
        ignore_unreachable: yes
        tasks:
          - ping:
    `, { 'vars/common.yml': 'x: 1\n', 'vars/default.yml': 'y: 1\n' });
    expect(p).toMatchObject({
      name: 'deploy',
      hosts: 'db,web',
      vars: { a: 1 },
      varsFiles: ['vars/common.yml', ['vars/{{ env }}.yml', 'vars/default.yml']],
      gatherFacts: false,
      become: true,
      becomeUser: 'postgres',
      becomeMethod: 'su',
      becomeFlags: '-l',
      serial: [1, '30%', 2],
      strategy: 'free',
      maxFailPercentage: 25,
      anyErrorsFatal: true,
      tags: ['deploy', 'db'],
      effectiveTags: ['deploy', 'db'],
      environment: { LANG: 'C' },
      checkMode: false,
      diff: '{{ show_diff }}',
      noLog: true,
      ignoreErrors: false,
      ignoreUnreachable: true,
      dir: t.root,
      loc: { file: t.p('site.yml'), line: 1, column: 3 },
    });
    expect(task(p.tasks[0]).module).toBe('ping');
  });

  test('defaults: gather_facts true, linear, no serial, empty sections', async () => {
    const p = await onePlay(`
      - hosts: all
    `);
    expect(p).toMatchObject({ hosts: 'all', gatherFacts: true, strategy: 'linear', vars: {}, varsFiles: [], preTasks: [], roleTasks: [], tasks: [], postTasks: [], handlers: [], roles: [] });
    expect(p.serial).toBeUndefined();
    expect(p.become).toBeUndefined();
  });

  test('serial as a single number and a single percentage', async () => {
    t = new Tree({ 'site.yml': y(`
      - hosts: a
        serial: 2
      - hosts: b
        serial: "50%"
    `) });
    const pb = await loader().loadPlaybook(t.p('site.yml'));
    expect(pb.plays.map((p) => p.serial)).toEqual([[2], ['50%']]);
  });
});

describe('tasks', () => {
  test('every task keyword is mapped', async () => {
    const p = await onePlay(`
      - hosts: all
        tasks:
          - name: copy it
            copy: { src: a.conf, dest: /etc/a.conf }
            when: ansible_os_family == "Debian"
            loop: [1, 2]
            loop_control: { loop_var: n, index_var: i, label: "{{ n }}", pause: 1.5 }
            register: out
            notify: restart a
            changed_when: false
            failed_when: [out.rc != 0, "'err' in out.stderr"]
            ignore_errors: yes
            ignore_unreachable: true
            until: out is success
            retries: 5
            delay: "{{ wait }}"
            tags: [conf, 7]
            become: true
            become_user: root
            become_method: sudo
            become_flags: -H
            delegate_to: "{{ groups.db[0] }}"
            run_once: true
            check_mode: no
            diff: yes
            no_log: true
            environment: { PATH: /bin }
            vars: { x: 1 }
            any_errors_fatal: false
        handlers:
          - name: restart a
            service: name=a state=restarted
    `);
    const tk = task(p.tasks[0]);
    expect(tk).toEqual({
      kind: 'task',
      name: 'copy it',
      module: 'copy',
      args: { src: 'a.conf', dest: '/etc/a.conf' },
      loc: { file: t.p('site.yml'), line: 3, column: 7 },
      dir: t.root,
      when: 'ansible_os_family == "Debian"',
      loop: [1, 2],
      loopControl: { loopVar: 'n', indexVar: 'i', label: '{{ n }}', pause: 1.5 },
      register: 'out',
      notify: ['restart a'],
      changedWhen: false,
      failedWhen: ['out.rc != 0', "'err' in out.stderr"],
      ignoreErrors: true,
      ignoreUnreachable: true,
      until: 'out is success',
      retries: 5,
      delay: '{{ wait }}',
      tags: ['conf', '7'],
      effectiveTags: ['conf', '7'],
      become: true,
      becomeUser: 'root',
      becomeMethod: 'sudo',
      becomeFlags: '-H',
      delegateTo: '{{ groups.db[0] }}',
      runOnce: true,
      checkMode: false,
      diff: true,
      noLog: true,
      environment: { PATH: '/bin' },
      vars: { x: 1 },
      anyErrorsFatal: false,
    });
    expect(p.handlers).toHaveLength(1);
    expect(p.handlers[0]).toMatchObject({ kind: 'task', name: 'restart a', module: 'service', args: { name: 'a', state: 'restarted' } });
  });

  test('a task without optional keywords has only the required fields', async () => {
    const p = await onePlay(`
      - hosts: all
        tasks:
          - ping:
    `);
    expect(p.tasks[0]).toEqual({ kind: 'task', module: 'ping', args: {}, loc: { file: t.p('site.yml'), line: 3, column: 7 }, tags: [], effectiveTags: [], dir: t.root });
  });

  test('k=v arguments, quotes, and the free-form modules', async () => {
    const p = await onePlay(`
      - hosts: all
        tasks:
          - copy: src=a.conf dest='/etc/my app.conf' mode=0644
          - command: ls -l "/my dir" chdir=/tmp creates="/tmp/x y"
          - shell: echo a=b | grep -c a=b removes=/nope
          - shell: |
              set -e
              echo "one  two"
          - command: echo hi
            args: { chdir: /srv, creates: /x }
          - shell: echo {{ item }}
            args: { chdir: /a }
          - include_vars: vars/x.yml
          - include_vars: file=vars/y.yml name=y
          - debug: msg="hello world"
          - command: 42
    `);
    const args = p.tasks.map((i) => task(i).args);
    expect(args).toEqual([
      { src: 'a.conf', dest: '/etc/my app.conf', mode: '0644' },
      { cmd: 'ls -l "/my dir"', chdir: '/tmp', creates: '/tmp/x y' },
      { cmd: 'echo a=b | grep -c a=b', removes: '/nope' },
      { cmd: 'set -e\necho "one  two"' },
      { cmd: 'echo hi', chdir: '/srv', creates: '/x' },
      { cmd: 'echo {{ item }}', chdir: '/a' },
      { file: 'vars/x.yml' },
      { file: 'vars/y.yml', name: 'y' },
      { msg: 'hello world' },
      { cmd: '42' },
    ]);
  });

  test('k=v arguments with template expressions: quotes and blanks inside {{ }} do not split', async () => {
    const p = await onePlay(`
      - hosts: all
        tasks:
          - command: echo {{ "a b" | upper }} chdir=/tmp
          - debug: msg="{{ 'x y' ~ z }}" var=z
          - copy: content="{{ a | default('it''s') }}" dest=/tmp/x
          - debug: 'msg="{{ "it''s" }} here"'
          - copy: 'content={{ {"k": {"v": "a b"}} | to_json }} dest={{ d }}/x mode=0600'
          - action: copy content="{% if a %}x y{% else %}"z"{% endif %}" dest=/b
    `);
    expect(p.tasks.map((i) => task(i).args)).toEqual([
      { cmd: 'echo {{ "a b" | upper }}', chdir: '/tmp' },
      { msg: "{{ 'x y' ~ z }}", var: 'z' },
      { content: "{{ a | default('it''s') }}", dest: '/tmp/x' },
      { msg: `{{ "it's" }} here` },
      { content: '{{ {"k": {"v": "a b"}} | to_json }}', dest: '{{ d }}/x', mode: '0600' },
      { content: '{% if a %}x y{% else %}"z"{% endif %}', dest: '/b' },
    ]);
  });

  test('inline arguments win over args:', async () => {
    const p = await onePlay(`
      - hosts: all
        tasks:
          - copy: dest=/b
            args: { src: a, dest: /a }
    `);
    expect(task(p.tasks[0]).args).toEqual({ src: 'a', dest: '/b' });
  });

  test('FQCN prefixes are stripped from modules and keywords', async () => {
    const p = await onePlay(`
      - hosts: all
        tasks:
          - ansible.builtin.copy: { src: a, dest: /b }
          - ansible.legacy.command: ls
          - ansible.builtin.meta: flush_handlers
          - ansible.builtin.include_tasks: more.yml
          - ansible.builtin.import_tasks: more.yml
          - action: ansible.builtin.file path=/x state=absent
    `, { 'more.yml': '- ping:\n' });
    expect(p.tasks.map((i) => (i.kind === 'task' ? i.module : i.kind))).toEqual(['copy', 'command', 'meta', 'include_tasks', 'ping', 'file']);
    expect(task(p.tasks[5]).args).toEqual({ path: '/x', state: 'absent' });
  });

  test('action: and local_action: forms', async () => {
    const p = await onePlay(`
      - hosts: all
        tasks:
          - action: copy src=a dest=/b
          - action: { module: file, path: /x, state: directory }
          - local_action: command echo hi chdir=/tmp
          - local_action:
              module: debug
              msg: hi
    `);
    expect(p.tasks.map((i) => [task(i).module, task(i).args, task(i).delegateTo])).toEqual([
      ['copy', { src: 'a', dest: '/b' }, undefined],
      ['file', { path: '/x', state: 'directory' }, undefined],
      ['command', { cmd: 'echo hi', chdir: '/tmp' }, 'localhost'],
      ['debug', { msg: 'hi' }, 'localhost'],
    ]);
  });

  test('with_items and the other lookups keep their terms for the run (the lookup runs there); with_list is a plain loop', async () => {
    const p = await onePlay(`
      - hosts: all
        tasks:
          - debug: msg={{ item }}
            with_items: [a, [b, c], [[d]]]
          - debug: msg={{ item }}
            with_list: [a, [b, c]]
          - debug: msg={{ item }}
            with_items: "{{ packages }}"
          - debug: msg={{ item.key }}
            with_dict: { alice: 1, bob: { uid: 2 } }
          - debug: msg={{ item.key }}
            with_dict: "{{ users }}"
          - debug: msg={{ item }}
            with_items: single
    `);
    expect(p.tasks.map((i) => [task(i).loop, task(i).loopLookup])).toEqual([
      [['a', ['b', 'c'], [['d']]], 'items'],
      [['a', ['b', 'c']], undefined],
      ['{{ packages }}', 'items'],
      [{ alice: 1, bob: { uid: 2 } }, 'dict'],
      ['{{ users }}', 'dict'],
      ['single', 'items'],
    ]);
  });

  test('with_fileglob, with_file, with_first_found keep their terms for the run, templated or not', async () => {
    const p = await onePlay(`
      - hosts: all
        tasks:
          - copy: src={{ item }} dest=/etc/
            with_fileglob: "*.conf"
          - copy: src={{ item }} dest=/etc/
            with_fileglob: ["{{ dir }}/*.x"]
          - include_vars: "{{ item }}"
            with_first_found: ["{{ ansible_os_family }}.yml", default.yml]
    `);
    expect(p.tasks.map((i) => [task(i).loop, task(i).loopLookup])).toEqual([
      ['*.conf', 'fileglob'],
      [['{{ dir }}/*.x'], 'fileglob'],
      [['{{ ansible_os_family }}.yml', 'default.yml'], 'first_found'],
    ]);
  });

  test('blocks with rescue/always and inherited tags and notify', async () => {
    const p = await onePlay(`
      - hosts: all
        tags: play
        tasks:
          - name: b
            block:
              - command: a
              - command: b
                notify: other
                tags: inner
            rescue:
              - debug: msg=rescued
            always:
              - debug: msg=always
            when: x
            become: yes
            tags: [blk]
            notify: h
        handlers:
          - name: h
            debug: msg=h
          - name: other
            debug: msg=other
    `);
    const b = block(p.tasks[0]);
    expect(b).toMatchObject({ name: 'b', when: 'x', become: true, tags: ['blk'], effectiveTags: ['play', 'blk'] });
    expect(task(b.block[0])).toMatchObject({ notify: ['h'], tags: [], effectiveTags: ['play', 'blk'] });
    expect(task(b.block[1])).toMatchObject({ notify: ['other'], tags: ['inner'], effectiveTags: ['play', 'blk', 'inner'] });
    expect(task(b.rescue[0]).args).toEqual({ msg: 'rescued' });
    expect(task(b.always[0]).args).toEqual({ msg: 'always' });
  });

  test('meta actions', async () => {
    const p = await onePlay(`
      - hosts: all
        tasks:
          - meta: flush_handlers
          - meta: end_host
            when: done
          - meta: noop
          - meta: end_play
          - meta: clear_host_errors
          - meta: refresh_inventory
    `);
    expect(p.tasks.map((i) => (i as MetaDef).action)).toEqual(['flush_handlers', 'end_host', 'noop', 'end_play', 'clear_host_errors', 'refresh_inventory']);
    expect(p.tasks[1]).toMatchObject({ kind: 'meta', when: 'done' });
  });

  test('handlers with listen, tags on a tag string', async () => {
    const p = await onePlay(`
      - hosts: all
        tasks:
          - command: x
            notify: [restart web, "reload things"]
        handlers:
          - name: restart web
            service: name=web state=restarted
            listen: reload things
          - name: also
            command: y
            listen: [reload things, other]
    `);
    expect(p.handlers.map((h) => h.listen)).toEqual([['reload things'], ['reload things', 'other']]);
    expect(task(p.tasks[0]).notify).toEqual(['restart web', 'reload things']);
  });
});

describe('imports and includes', () => {
  test('import_tasks: nested, relative to the importing file, tags/when/vars applied to every task', async () => {
    const p = await onePlay(`
      - hosts: all
        tags: p
        tasks:
          - import_tasks: tasks/a.yml
            tags: imp
            when: do_it
            vars: { v: 1 }
          - import_tasks: { file: tasks/b.yml }
          - ansible.builtin.import_tasks: tasks/sub/c.yml
            tags: [plain]
    `, {
      'tasks/a.yml': '- command: a1\n- import_tasks: sub/c.yml\n',
      'tasks/sub/c.yml': '- command: c1\n  tags: own\n- import_tasks: d.yml\n',
      'tasks/sub/d.yml': '- command: d1\n',
      'tasks/b.yml': '- command: b1\n',
    });
    // with keywords beyond tags the import becomes a block carrying them
    const imp = block(p.tasks[0]);
    expect(imp).toMatchObject({ when: 'do_it', vars: { v: 1 }, tags: ['imp'], effectiveTags: ['p', 'imp'] });
    expect(imp.name).toBeUndefined();
    expect(imp.block.map((i) => task(i).args.cmd)).toEqual(['a1', 'c1', 'd1']);
    expect(task(imp.block[1])).toMatchObject({ effectiveTags: ['p', 'imp', 'own'], dir: t.p('tasks/sub'), loc: { file: t.p('tasks/sub/c.yml'), line: 1, column: 3 } });
    expect(task(imp.block[2])).toMatchObject({ effectiveTags: ['p', 'imp'], dir: t.p('tasks/sub') });
    // without such keywords the tasks are spliced in
    expect(task(p.tasks[1]).args.cmd).toBe('b1');
    expect(task(p.tasks[2])).toMatchObject({ args: { cmd: 'c1' }, effectiveTags: ['p', 'plain', 'own'] });
    expect(task(p.tasks[3])).toMatchObject({ args: { cmd: 'd1' }, effectiveTags: ['p', 'plain'] });
  });

  test('include_tasks stays dynamic with its vars as params; loadTasksFile loads it', async () => {
    const p = await onePlay(`
      - hosts: all
        tasks:
          - include_tasks: "{{ which }}.yml"
            vars: { a: 1 }
            loop: [x, y]
            loop_control: { loop_var: which }
            tags: inc
          - include_tasks:
              file: more.yml
    `, { 'more.yml': '- command: m\n  tags: t\n' });
    const inc = p.tasks[0] as IncludeDef;
    expect(inc).toMatchObject({ kind: 'include_tasks', target: '{{ which }}.yml', params: { a: 1 }, vars: { a: 1 }, loop: ['x', 'y'], loopControl: { loopVar: 'which' }, effectiveTags: ['inc'], dir: t.root });
    expect((p.tasks[1] as IncludeDef).target).toBe('more.yml');
    const items = await loader().loadTasksFile('more.yml', t.root, undefined, ['inc']);
    expect(task(items[0])).toMatchObject({ args: { cmd: 'm' }, effectiveTags: ['inc', 't'], dir: t.root });
    await expect(loader().loadTasksFile('nope.yml', t.root)).rejects.toThrow("included file 'nope.yml' not found");
  });

  test('import_playbook: nested, relative paths, tags/vars/when passed down', async () => {
    t = new Tree({
      'site.yml': y(`
        - hosts: first
          tasks: [{ command: one }]
        - import_playbook: sub/two.yml
          tags: imported
          vars: { from_import: 1, shared: outer }
          when: enabled
      `),
      'sub/two.yml': y(`
        - hosts: second
          vars: { shared: inner, own: 1 }
          tasks: [{ command: two }]
        - ansible.builtin.import_playbook: ../three.yml
      `),
      'three.yml': '- hosts: third\n  tasks: [{ command: three }]\n',
    });
    const pb = await loader().loadPlaybook(t.p('site.yml'));
    expect(pb.file).toBe(t.p('site.yml'));
    expect(pb.plays.map((p) => p.hosts)).toEqual(['first', 'second', 'third']);
    const [, two, three] = pb.plays;
    expect(two).toMatchObject({ dir: t.p('sub'), vars: { shared: 'outer', own: 1, from_import: 1 }, tags: [], effectiveTags: ['imported'] });
    expect(three.effectiveTags).toEqual(['imported']);
    // the import's when guards every section of the imported plays
    const guard = block(two.tasks[0]);
    expect(guard.when).toBe('enabled');
    expect(task(guard.block[0])).toMatchObject({ args: { cmd: 'two' }, effectiveTags: ['imported'] });
    expect(pb.plays[0].tasks[0].kind).toBe('task');
  });
});

describe('more forms', () => {
  test('handlers may come from import_tasks; vars may be a list of mappings', async () => {
    const p = await onePlay(`
      - hosts: all
        vars:
          - { a: 1, b: 1 }
          - { b: 2 }
        tasks:
          - command: x
            notify: from file
        handlers:
          - import_tasks: handlers.yml
            tags: h
    `, { 'handlers.yml': '- name: from file\n  command: h\n  listen: other\n' });
    expect(p.vars).toEqual({ a: 1, b: 2 });
    expect(p.handlers).toHaveLength(1);
    expect(p.handlers[0]).toMatchObject({ name: 'from file', listen: ['other'], effectiveTags: ['h'], dir: t.root });
  });

  test('a 500-task playbook loads completely, positions intact', async () => {
    let text = '- hosts: all\n  tasks:\n';
    for (let i = 0; i < 500; i++) text += `    - name: task ${i}\n      command: echo ${i} chdir=/tmp\n      tags: [t${i % 7}]\n`;
    t = new Tree({ 'site.yml': text });
    const p = (await loader().loadPlaybook(t.p('site.yml'))).plays[0];
    expect(p.tasks).toHaveLength(500);
    const last = task(p.tasks[499]);
    expect(last).toMatchObject({ name: 'task 499', args: { cmd: 'echo 499', chdir: '/tmp' }, tags: ['t2'], loc: { line: 3 + 499 * 3, column: 7 } });
  });

  test('loop_control and loops work on include_tasks and include_role too; yes/no/on/off are booleans', async () => {
    const p = await onePlay(`
      - hosts: all
        tasks:
          - include_tasks: x.yml
            with_items: [[a, b], c]
            loop_control: { loop_var: f }
            become: on
          - debug: msg=x
            no_log: off
            run_once: y
    `, { 'x.yml': '- ping:\n' });
    expect(p.tasks[0]).toMatchObject({ kind: 'include_tasks', loop: [['a', 'b'], 'c'], loopLookup: 'items', loopControl: { loopVar: 'f' }, become: true });
    expect(p.tasks[1]).toMatchObject({ noLog: false, runOnce: true });
  });
});
