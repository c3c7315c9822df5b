import path from 'path';
import { cleanupTrees, Tree, block, loader, lines, loadErrors, task, y } from './helpers';
import type { BlockDef, IncludeDef, TaskItem } from '../../../runner/loader/types';

let t: Tree;
afterEach(cleanupTrees);

const cmds = (items: TaskItem[]): string[] =>
  items.flatMap((i) => (i.kind === 'block' ? [`[${i.role?.name ?? 'block'}]`, ...cmds(i.block)] : i.kind === 'task' ? [String(i.args.cmd ?? i.module)] : [i.kind]));

describe('roles', () => {
  test('a role: defaults, vars, params, tasks, handlers; its block carries the entry keywords', async () => {
    t = new Tree({
      'site.yml': y(`
        - hosts: all
          tags: play
          roles:
            - web
            - role: db
              port: 5433
              vars: { replicas: 2 }
              when: db_enabled
              tags: [database]
              become: yes
          handlers:
            - name: play handler
              command: ph
      `),
      'roles/web/tasks/main.yml': '- command: web1\n',
      'roles/db/defaults/main.yml': 'port: 5432\nmax_conn: 100\n',
      'roles/db/vars/main.yaml': 'pkg: postgresql\n',
      'roles/db/tasks/main.yml': '- command: db1\n  notify: restart db\n- import_tasks: extra.yml\n',
      'roles/db/tasks/extra.yml': '- command: db2\n',
      'roles/db/handlers/main.yml': '- name: restart db\n  service: name=db state=restarted\n',
    });
    const pb = await loader().loadPlaybook(t.p('site.yml'));
    const p = pb.plays[0];
    expect(p.roles.map((r) => r.name)).toEqual(['web', 'db']);
    const db = p.roles[1];
    expect(db).toEqual({
      name: 'db',
      path: t.p('roles/db'),
      defaults: { port: 5432, max_conn: 100 },
      vars: { pkg: 'postgresql' },
      params: { port: 5433, replicas: 2 },
    });
    expect(p.roleTasks).toHaveLength(2);
    const [webBlock, dbBlock] = p.roleTasks.map(block);
    expect(webBlock).toMatchObject({ kind: 'block', role: p.roles[0], tags: [], effectiveTags: ['play'], dir: t.p('roles/web') });
    expect(webBlock.name).toBeUndefined();
    expect(dbBlock).toMatchObject({ role: db, when: 'db_enabled', become: true, tags: ['database'], effectiveTags: ['play', 'database'] });
    expect(dbBlock.vars).toBeUndefined();
    const [db1, db2] = dbBlock.block.map(task);
    expect(db1).toMatchObject({ role: db, dir: t.p('roles/db/tasks'), effectiveTags: ['play', 'database'], notify: ['restart db'] });
    expect(db2).toMatchObject({ role: db, args: { cmd: 'db2' } });
    // roles' handlers come first, as in Ansible
    expect(p.handlers.map((h) => [h.name, h.role?.name])).toEqual([['restart db', 'db'], ['play handler', undefined]]);
  });

  test('dependencies load first (nested), once per play unless params differ or allow_duplicates', async () => {
    t = new Tree({
      'site.yml': y(`
        - hosts: all
          roles:
            - app
            - api
            - common
            - { role: common, level: 2 }
            - dup
            - dup
      `),
      'roles/common/tasks/main.yml': '- command: common\n',
      'roles/common/handlers/main.yml': '- name: common h\n  command: ch\n',
      'roles/base/tasks/main.yml': '- command: base\n',
      'roles/app/meta/main.yml': y(`
        galaxy_info: { author: me }
        dependencies:
          - common
          - role: base
            tags: fromdep
      `),
      'roles/app/tasks/main.yml': '- command: app\n',
      'roles/api/meta/main.yml': 'dependencies: [common]\n',
      'roles/api/tasks/main.yml': '- command: api\n',
      'roles/dup/meta/main.yml': 'allow_duplicates: yes\n',
      'roles/dup/tasks/main.yml': '- command: dup\n',
    });
    const p = (await loader().loadPlaybook(t.p('site.yml'))).plays[0];
    expect(cmds(p.roleTasks)).toEqual([
      '[app]', '[common]', 'common', '[base]', 'base', 'app',
      '[api]', 'api', // common already ran with the same params
      // `- common` again: skipped; with other params: runs
      '[common]', 'common',
      '[dup]', 'dup', '[dup]', 'dup',
    ]);
    const base = block(block(p.roleTasks[0]).block[1]);
    expect(base.effectiveTags).toEqual(['fromdep']);
    expect(p.roles.map((r) => `${r.name}${JSON.stringify(r.params)}`)).toEqual([
      'common{}', 'base{}', 'app{}', 'api{}', 'common{"level":2}', 'dup{}', 'dup{}',
    ]);
    expect(p.handlers.map((h) => h.name)).toEqual(['common h', 'common h']);
  });

  test('search order: roles/ beside the playbook, then rolesPath, then a path', async () => {
    t = new Tree({
      'pb/site.yml': y(`
        - hosts: all
          roles: [local, shared, ../elsewhere/byp, ${'"'}ABS${'"'}]
      `),
      'pb/roles/local/tasks/main.yml': '- command: local\n',
      'lib/roles/shared/tasks/main.yml': '- command: shared\n',
      'lib/roles/local/tasks/main.yml': '- command: wrong\n',
      'elsewhere/byp/tasks/main.yml': '- command: bypath\n',
      'abs/r/tasks/main.yml': '- command: absolute\n',
    });
    t.write({ 'pb/site.yml': (await import('fs')).readFileSync(t.p('pb/site.yml'), 'utf8').replace('ABS', t.p('abs/r')) });
    const p = (await loader({ rolesPath: [t.p('lib/roles')] }).loadPlaybook(t.p('pb/site.yml'))).plays[0];
    expect(cmds(p.roleTasks).filter((c) => !c.startsWith('['))).toEqual(['local', 'shared', 'bypath', 'absolute']);
    expect(p.roles.map((r) => r.name)).toEqual(['local', 'shared', 'byp', 'r']);
  });

  test('a dependency is also found beside its parent role (roles path)', async () => {
    t = new Tree({
      'site.yml': '- hosts: all\n  roles: [top]\n',
      'lib/top/meta/main.yml': 'dependencies: [helper]\n',
      'lib/top/tasks/main.yml': '- command: top\n',
      'lib/helper/tasks/main.yml': '- command: helper\n',
    });
    const p = (await loader({ rolesPath: [t.p('lib')] }).loadPlaybook(t.p('site.yml'))).plays[0];
    expect(cmds(p.roleTasks)).toEqual(['[top]', '[helper]', 'helper', 'top']);
  });

  test('import_role resolves now (tasks_from, vars as params); include_role stays dynamic', async () => {
    t = new Tree({
      'site.yml': y(`
        - hosts: all
          tasks:
            - import_role:
                name: db
                tasks_from: setup
              vars: { mode: fast }
              when: go
              tags: imp
            - include_role: name=db tasks_from=setup.yml
              vars: { mode: slow }
              loop: [1, 2]
            - ansible.builtin.include_role:
                name: "{{ r }}"
          handlers:
            - name: mine
              command: m
      `),
      'roles/db/tasks/main.yml': '- command: main\n',
      'roles/db/tasks/setup.yml': '- command: setup\n',
      'roles/db/handlers/main.yml': '- name: db h\n  command: dbh\n',
    });
    const p = (await loader().loadPlaybook(t.p('site.yml'))).plays[0];
    const imp = block(p.tasks[0]);
    expect(imp).toMatchObject({ when: 'go', tags: ['imp'], effectiveTags: ['imp'], role: { name: 'db', params: { mode: 'fast' } } });
    expect(cmds(imp.block)).toEqual(['setup']);
    expect(p.tasks[1]).toMatchObject({ kind: 'include_role', target: 'db', tasksFrom: 'setup.yml', params: { mode: 'slow' }, loop: [1, 2] });
    expect((p.tasks[2] as IncludeDef).target).toBe('{{ r }}');
    // import_role handlers come after the play's own
    expect(p.handlers.map((h) => h.name)).toEqual(['mine', 'db h']);
    expect(p.roles.map((r) => r.name)).toEqual(['db']);
  });

  test('loadRole (include_role at run time): dependencies first, handlers, params, tasks_from', async () => {
    t = new Tree({
      'site.yml': '- hosts: all\n  tasks: [{ include_role: { name: app } }]\n',
      'roles/app/meta/main.yml': 'dependencies: [{ role: common, x: 1 }]\n',
      'roles/app/defaults/main.yml': 'a: 1\n',
      'roles/app/tasks/main.yml': '- command: app\n',
      'roles/app/tasks/other.yml': '- command: other\n',
      'roles/app/handlers/main.yml': '- name: app h\n  command: h\n',
      'roles/common/tasks/main.yml': '- command: common\n',
      'roles/common/handlers/main.yml': '- name: common h\n  command: h\n',
    });
    const l = loader();
    await l.loadPlaybook(t.p('site.yml'));
    // from a directory deep inside another role: found through the loaded playbook's roles/
    const r = await l.loadRole('app', t.p('roles/common/tasks'), { p: 2 }, undefined, ['inc']);
    expect(r.role).toMatchObject({ name: 'app', path: t.p('roles/app'), defaults: { a: 1 }, params: { p: 2 } });
    expect(cmds(r.tasks)).toEqual(['[common]', 'common', 'app']);
    expect(block(r.tasks[0]).role?.params).toEqual({ x: 1 });
    expect(task(r.tasks[1])).toMatchObject({ role: r.role, effectiveTags: ['inc'] });
    expect(r.handlers.map((h) => h.name)).toEqual(['common h', 'app h']);
    const o = await loader().loadRole('app', t.root, {}, 'other');
    expect(cmds(o.tasks)).toEqual(['[common]', 'common', 'other']);
    await expect(loader().loadRole('nope', t.root, {})).rejects.toThrow("role 'nope' not found");
  });

  test('loadTasksFile inside a role looks in the role tasks/ first', async () => {
    t = new Tree({
      'roles/r/tasks/main.yml': '- include_tasks: step.yml\n',
      'roles/r/tasks/step.yml': '- command: role-step\n',
      'step.yml': '- command: wrong\n',
    });
    const { role } = await loader().loadRole('r', t.root, {});
    const items = await loader().loadTasksFile('step.yml', t.root, role);
    expect(task(items[0])).toMatchObject({ args: { cmd: 'role-step' }, role: { name: 'r' }, dir: t.p('roles/r/tasks') });
  });

  test('role errors: missing role lists the searched dirs; bad defaults; dependency cycle', async () => {
    t = new Tree({
      'site.yml': y(`
        - hosts: all
          roles:
            - missing
            - a
            - bad
      `),
      'roles/a/meta/main.yml': 'dependencies: [b]\n',
      'roles/b/meta/main.yml': 'dependencies:\n  - a\n',
      'roles/bad/defaults/main.yml': '- not a mapping\n',
      'roles/bad/tasks/main.yml': '- copy: src=x\n',
    });
    const errs = await loadErrors(t.p('site.yml'), { rolesPath: [t.p('lib')] });
    expect(lines(errs, t.root)).toEqual([
      "ROOT/site.yml:3:7: role 'missing' not found",
      'ROOT/roles/b/meta/main.yml:2:5: role dependency cycle: a -> b -> a',
      'ROOT/roles/bad/defaults/main.yml:1:1: role defaults must be a mapping of variables, got a list',
      "ROOT/roles/bad/tasks/main.yml:1:9: module 'copy': missing required argument 'dest'",
    ]);
    expect(errs[0].hint).toBe(`searched: ${[t.p('roles/missing'), t.p('lib/missing'), t.p('missing')].join(', ')}`);
  });

  test('role entry errors', async () => {
    t = new Tree({
      'site.yml': y(`
        - hosts: all
          roles:
            - { when: x }
            - role: "{{ r }}"
            - 42
            - role: ok
              bad-param: 1
      `),
      'roles/ok/tasks/main.yml': '- ping:\n',
    });
    expect(lines(await loadErrors(t.p('site.yml')), t.root)).toEqual([
      "ROOT/site.yml:3:7: role entry has no 'role:'",
      "ROOT/site.yml:4:13: role names are resolved when the playbook is loaded and cannot be templated ('{{ r }}')",
      "ROOT/site.yml:5:7: a role entry must be a role name or a mapping with 'role:', got number 42",
      "ROOT/site.yml:7:7: 'bad-param' is not a valid role parameter name",
    ]);
  });

  test('literal include_role and include_tasks targets are read at load time, their problems deferred', async () => {
    t = new Tree({
      'site.yml': y(`
        - hosts: all
          tasks:
            - include_role: { name: nothere }
            - include_role: { name: r, tasks_from: nope }
            - include_tasks: gone.yml
            - include_tasks: bad.yml
            - include_tasks: "{{ dynamic }}.yml"
      `),
      'roles/r/tasks/main.yml': '- ping:\n',
      'bad.yml': '- pingg:\n',
    });
    // not errors of the load: a file is the run's problem only if it is included
    const pb = await loader().loadPlaybook(t.p('site.yml'));
    expect(lines(pb.deferred ?? [], t.root)).toEqual([
      "ROOT/site.yml:3:21: role 'nothere' not found",
      "ROOT/site.yml:4:21: tasks_from 'nope' not found in role 'r'",
      "ROOT/site.yml:5:22: included file 'gone.yml' not found",
      "ROOT/bad.yml:1:3: unknown module 'pingg' — did you mean 'ping'?",
    ]);
    // included at run time, the file's problems are thrown together, each with file:line
    await expect(loader().loadTasksFile('bad.yml', t.root)).rejects.toThrow(/included file 'bad.yml' is not valid \(1 error\):\n.*bad\.yml:1:3: unknown module 'pingg'/);
  });
});

test('paths in results are absolute', async () => {
  t = new Tree({ 'site.yml': '- hosts: all\n  roles: [r]\n', 'roles/r/tasks/main.yml': '- ping:\n' });
  const prev = process.cwd();
  process.chdir(t.root);
  try {
    const pb = await loader().loadPlaybook('site.yml');
    expect(path.isAbsolute(pb.file)).toBe(true);
    expect((pb.plays[0].roleTasks[0] as BlockDef).dir).toBe(t.p('roles/r'));
  } finally {
    process.chdir(prev);
  }
});
