/**
 * Issue 3 acceptance on the staging lab: tsplay drives real Debian hosts over real SSH.
 *
 * Runs against an already running lab of 5 hosts (`npm test` wraps jest in test/with-lab.sh).
 * It runs before 02-ha.test.ts, which needs hosts whose /etc, /var/lib/postgresql, /var/lib/etcd
 * and /opt were never touched: every run here writes only under /srv/tsplay-e2e and /tmp on the
 * hosts, and both are removed afterwards. The host key and poweroff cases leave the lab as they
 * found it (`lab trust`, `lab start`).
 *
 * Every result is checked from outside tsplay, through `test/lab/lab exec`.
 */
import fs from 'fs';
import path from 'path';
import { quote } from '../../runner/shell-quote';
import {
  DEPLOY_PASSWORD,
  DEPLOY_USER,
  LAB_HOSTS,
  LAB_KNOWN_HOSTS,
  LAB_RUN,
  describeRun,
  exclusiveLab,
  fingerprintsOf,
  hostResults,
  hostTreeHash,
  inventoryYaml,
  labCommand,
  labExec,
  labIsUp,
  labSh,
  makeDir,
  recapOf,
  remoteExists,
  sha256,
  tsplayRun,
  waitForSsh,
  type Run,
} from './lab-helpers';

const BASE = '/srv/tsplay-e2e';
const STEP_MS = 6 * 60_000;
const dirs: string[] = [];

function project(files: Record<string, string>): string {
  const d = makeDir(files);
  dirs.push(d);
  return d;
}

function cleanHosts(): void {
  for (const h of LAB_HOSTS) labExec(h, `rm -rf ${BASE} /tmp/tsplay-e2e-*`);
}

/** A run that must end with `code`; the message shows why it did not. */
function expectExit(run: Run, code: number): void {
  if (run.code !== code) throw new Error(`expected exit ${code}\n${describeRun(run)}`);
}

function changed(run: Run): Record<string, number> {
  return Object.fromEntries(Object.entries(recapOf(run)).map(([h, c]) => [h, c.changed]));
}

const allHosts = (v: number): Record<string, number> => Object.fromEntries(LAB_HOSTS.map((h) => [h, v]));

beforeAll(() => {
  if (!labIsUp()) throw new Error('the staging lab is not up: run `test/lab/lab up` (or `npm test`, which brings it up)');
  cleanHosts();
}, STEP_MS);

afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  cleanHosts();
}, STEP_MS);

test('facts and ping on all 5 hosts over SSH', () => {
  const dir = project({
    'inv.yml': inventoryYaml(),
    'pb.yml': `- hosts: all
  tasks:
    - name: ping
      ping:
    - name: facts
      debug:
        msg: "{{ ansible_hostname }}|{{ ansible_distribution }}|{{ ansible_facts.distribution_major_version }}"
`,
  });
  const run = tsplayRun(dir, 'pb.yml', 'inv.yml');
  expectExit(run, 0);
  for (const h of LAB_HOSTS) {
    const ping = hostResults(run, h).find((e) => e.task === 'ping');
    expect(ping?.result?.ping).toBe('pong');
    const facts = hostResults(run, h).find((e) => e.task === 'facts');
    expect(facts?.msg).toBe(`${h}|Debian|12`);
  }
  expect(Object.keys(recapOf(run)).sort()).toEqual(LAB_HOSTS);
  expect(changed(run)).toEqual(allHosts(0));
});

describe('copy, template, file, lineinfile', () => {
  const files = {
    'templates/app.conf.j2': '# {{ inventory_hostname }}\nname={{ inventory_hostname }}\ngreeting={{ greeting }}\n',
    'pb.yml': `- hosts: all
  gather_facts: false
  vars:
    greeting: hello from tsplay
    d: "${BASE}/{{ sub }}"
  tasks:
    - name: directory
      file: { path: "{{ d }}", state: directory, owner: "{{ own }}", group: "{{ own }}", mode: '0750' }
    - name: copy
      copy: { content: "copied to {{ inventory_hostname }}\\n", dest: "{{ d }}/copied.txt", owner: "{{ own }}", group: root, mode: '0640' }
    - name: template
      template: { src: app.conf.j2, dest: "{{ d }}/app.conf", mode: '0600' }
    - name: lineinfile create
      lineinfile: { path: "{{ d }}/lines.conf", line: "port = 5432", create: true, mode: '0644' }
    - name: lineinfile replace
      lineinfile: { path: "{{ d }}/lines.conf", regexp: '^#?listen', line: "listen = '*'" }
    - name: file touch
      file: { path: "{{ d }}/flag", state: touch, mode: 'u=rw,g=r,o=' }
    - name: as the login user
      copy: { content: "login user\\n", dest: "/tmp/tsplay-e2e-{{ sub }}.txt", mode: '0600' }
      become: false
`,
  };

  /** What the playbook above must have left on every host, checked from outside. */
  function verify(sub: string, own: string, login: string): void {
    const d = `${BASE}/${sub}`;
    const paths = [d, `${d}/copied.txt`, `${d}/app.conf`, `${d}/lines.conf`, `${d}/flag`, `/tmp/tsplay-e2e-${sub}.txt`];
    for (const h of LAB_HOSTS) {
      // one lab exec per host: owner, group, mode and type of each path, then the contents
      const out = labSh(h, `stat -c '%U:%G %a %F' -- ${paths.map((p) => quote(p)).join(' ')}; echo ---; cat ${d}/copied.txt; echo ---; cat ${d}/app.conf; echo ---; cat ${d}/lines.conf`);
      expect([h, out]).toEqual([
        h,
        [
          `${own}:${own} 750 directory`,
          `${own}:root 640 regular file`,
          'root:root 600 regular file',
          'root:root 644 regular file',
          'root:root 640 regular empty file',
          `${login}:${login} 600 regular file`,
          '---',
          `copied to ${h}`,
          '---',
          `# ${h}`,
          `name=${h}`,
          'greeting=hello from tsplay',
          '---',
          'port = 5432',
          "listen = '*'",
          '',
        ].join('\n'),
      ]);
    }
  }

  const noSecret = (run: Run) => {
    expect(run.stdout.includes(DEPLOY_PASSWORD)).toBe(false);
    expect(run.stderr.includes(DEPLOY_PASSWORD)).toBe(false);
  };

  test('as root', () => {
    const dir = project({ ...files, 'inv.yml': inventoryYaml() });
    const run = tsplayRun(dir, 'pb.yml', 'inv.yml', ['-e', 'sub=root own=deploy']);
    expectExit(run, 0);
    expect(changed(run)).toEqual(allHosts(7));
    verify('root', 'deploy', 'root');
    const again = tsplayRun(dir, 'pb.yml', 'inv.yml', ['-e', 'sub=root own=deploy']);
    expectExit(again, 0);
    // `touch` always changes (as in Ansible); everything else must be idempotent
    expect(changed(again)).toEqual(allHosts(1));
    expect(hostResults(again, undefined, 'changed').every((e) => e.task === 'file touch')).toBe(true);
  }, STEP_MS);

  test('with become from the non-root user, password in the inventory', () => {
    const dir = project({
      ...files,
      'inv.yml': inventoryYaml({ user: DEPLOY_USER, vars: { ansible_become: true, ansible_become_password: DEPLOY_PASSWORD } }),
    });
    const run = tsplayRun(dir, 'pb.yml', 'inv.yml', ['-e', 'sub=become own=root']);
    expectExit(run, 0);
    expect(changed(run)).toEqual(allHosts(7));
    verify('become', 'root', DEPLOY_USER);
    noSecret(run);
  }, STEP_MS);

  test('with become from the non-root user, password from -K on stdin (no terminal)', () => {
    const dir = project({ ...files, 'inv.yml': inventoryYaml({ user: DEPLOY_USER, vars: { ansible_become: true } }) });
    const run = tsplayRun(dir, 'pb.yml', 'inv.yml', ['-K', '-e', 'sub=become-k own=ops'], { input: `${DEPLOY_PASSWORD}\n` });
    expectExit(run, 0);
    expect(changed(run)).toEqual(allHosts(7));
    verify('become-k', 'ops', DEPLOY_USER);
    noSecret(run);
  }, STEP_MS);

  test.each([
    ['in the inventory', 'inventory'],
    ['from -K', 'ask'],
  ])('a wrong become password %s fails each host at once, clearly, without showing it', (_label, how) => {
    const wrong = `Wr0ng-e2e-pw-${Date.now()}`;
    const vars: Record<string, unknown> = { ansible_become: true };
    if (how === 'inventory') vars.ansible_become_password = wrong;
    const dir = project({ ...files, 'inv.yml': inventoryYaml({ user: DEPLOY_USER, vars }) });
    const args = ['-e', 'sub=wrong-pw own=root', ...(how === 'ask' ? ['-K'] : [])];
    const run = tsplayRun(dir, 'pb.yml', 'inv.yml', args, { input: `${wrong}\n`, timeoutMs: 60_000 });
    process.stdout.write(`[ssh e2e] wrong become password (${how}): run ended after ${run.seconds.toFixed(1)} s\n`);
    expectExit(run, 2);
    // sudo's own delay after a wrong password is ~2 s; a hang would be the 60 s spawn timeout
    expect(run.seconds).toBeLessThan(20);
    for (const h of LAB_HOSTS) {
      const failed = hostResults(run, h, 'failed');
      expect(failed.map((e) => e.task)).toEqual(['directory']);
      expect(failed[0].msg).toMatch(new RegExp(`${h}.*incorrect sudo password`));
      expect(recapOf(run)[h]).toMatchObject({ failed: 1, changed: 0 });
      expect(remoteExists(h, `${BASE}/wrong-pw`)).toBe(false);
    }
    expect(run.stdout.includes(wrong)).toBe(false);
    expect(run.stderr.includes(wrong)).toBe(false);
  }, STEP_MS);
});

test('check mode on untouched hosts changes nothing; the real run twice: changes, then changed=0', () => {
  const d = `${BASE}/check`;
  // a file that exists and drifted, so the dry run has a change to plan on existing content too
  for (const h of LAB_HOSTS) labSh(h, `mkdir -p ${d} && printf 'old\\n' > ${d}/existing.conf && chmod 600 ${d}/existing.conf`);
  const dir = project({
    'inv.yml': inventoryYaml(),
    'templates/t.j2': 'host={{ inventory_hostname }}\n',
    'pb.yml': `- hosts: all
  gather_facts: false
  tasks:
    - file: { path: ${d}/new/sub, state: directory, mode: '0755' }
    - copy: { content: "new\\n", dest: ${d}/existing.conf, mode: '0644' }
    - template: { src: t.j2, dest: ${d}/new/sub/t.conf }
    - lineinfile: { path: ${d}/lines.conf, line: "a = 1", create: true }
    - lineinfile: { path: ${d}/lines.conf, line: "b = 2" }
    - copy: { content: "x\\n", dest: /tmp/tsplay-e2e-check.txt }
`,
  });
  const watched = [BASE, '/etc', '/tmp'];
  const before = LAB_HOSTS.map((h) => hostTreeHash(h, watched));
  const dry = tsplayRun(dir, 'pb.yml', 'inv.yml', ['--check', '--diff']);
  expectExit(dry, 0);
  expect(changed(dry)).toEqual(allHosts(6));
  // the diff of the drifted file shows the real before and after
  const diff = JSON.stringify(hostResults(dry, 'lab1').find((e) => e.task === 'copy')?.diff ?? null);
  expect(diff).toContain('old');
  expect(diff).toContain('new');
  expect(LAB_HOSTS.map((h) => hostTreeHash(h, watched))).toEqual(before);

  const real = tsplayRun(dir, 'pb.yml', 'inv.yml');
  expectExit(real, 0);
  expect(changed(real)).toEqual(allHosts(6));
  for (const h of LAB_HOSTS) {
    expect(labSh(h, `cat ${d}/existing.conf ${d}/new/sub/t.conf ${d}/lines.conf /tmp/tsplay-e2e-check.txt`)).toBe(`new\nhost=${h}\na = 1\nb = 2\nx\n`);
  }
  const after = LAB_HOSTS.map((h) => hostTreeHash(h, [BASE]));
  const second = tsplayRun(dir, 'pb.yml', 'inv.yml');
  expectExit(second, 0);
  expect(changed(second)).toEqual(allHosts(0));
  const dry2 = tsplayRun(dir, 'pb.yml', 'inv.yml', ['--check']);
  expectExit(dry2, 0);
  expect(changed(dry2)).toEqual(allHosts(0));
  expect(LAB_HOSTS.map((h) => hostTreeHash(h, [BASE]))).toEqual(after);
}, STEP_MS);

test('a changed host key: that host is refused (exit 4) and untouched, the others run', async () => {
  const marker = `${BASE}/hostkey/marker`;
  const dir = project({
    'inv.yml': inventoryYaml(),
    'pb.yml': `- hosts: all
  gather_facts: false
  tasks:
    - file: { path: ${BASE}/hostkey, state: directory }
    - copy: { content: "on {{ inventory_hostname }}\\n", dest: ${marker} }
`,
  });
  await exclusiveLab('regen-hostkey lab5', async () => {
    // read inside the exclusive section: another lab user may have re-keyed lab5 meanwhile
    const knownBefore = fs.readFileSync(LAB_KNOWN_HOSTS, 'utf8');
    const trusted = fingerprintsOf(knownBefore.split('\n').filter((l) => /^lab5[\s,]/.test(l)).join('\n'));
    expect(trusted.length).toBeGreaterThan(0);
    labCommand(['regen-hostkey', 'lab5']);
    try {
      // the new keys, read from lab5's root as mounted on this machine (ssh to it must fail now)
      const keyDir = path.join(LAB_RUN, 'lab5', 'root', 'etc', 'ssh');
      const offeredNow = fingerprintsOf(
        fs.readdirSync(keyDir).filter((f) => f.endsWith('.pub')).map((f) => fs.readFileSync(path.join(keyDir, f), 'utf8')).join('\n'),
      );
      expect(offeredNow.some((f) => trusted.includes(f))).toBe(false);

      const run = tsplayRun(dir, 'pb.yml', 'inv.yml');
      expectExit(run, 4);
      const rc = recapOf(run);
      expect(rc.lab5).toMatchObject({ unreachable: 1, changed: 0, ok: 0 });
      const refused = hostResults(run, 'lab5', 'unreachable');
      expect(refused).toHaveLength(1);
      const msg: string = refused[0].msg;
      expect(msg).toMatch(/lab5.*HOST KEY CHANGED/);
      const fps = msg.match(/SHA256:[A-Za-z0-9+/]+/g) ?? [];
      // expected (from known_hosts) first, then the one lab5 offered
      expect([msg, fps.length, trusted.includes(fps[0] ?? ''), offeredNow.includes(fps[1] ?? '')]).toEqual([msg, 2, true, true]);
      expect(msg).toContain(LAB_KNOWN_HOSTS);
      for (const h of LAB_HOSTS.filter((x) => x !== 'lab5')) {
        expect([h, rc[h]]).toMatchObject([h, { changed: 2, failed: 0, unreachable: 0 }]);
        expect(labSh(h, `cat ${marker}`)).toBe(`on ${h}\n`);
      }
      // the shared known_hosts was not touched by the run (strict: nothing appended or replaced)
      expect(fs.readFileSync(LAB_KNOWN_HOSTS, 'utf8')).toBe(knownBefore);
    } finally {
      labCommand(['trust', 'lab5']);
    }
  });
  expect(remoteExists('lab5', `${BASE}/hostkey`)).toBe(false);
  // trusted again: the same run now reaches lab5
  const run = tsplayRun(dir, 'pb.yml', 'inv.yml');
  expectExit(run, 0);
  expect(changed(run)).toEqual({ ...allHosts(0), lab5: 2 });
}, STEP_MS);

test('a powered-off host is reported unreachable, the rest finish, exit 4', async () => {
  const marker = `${BASE}/poweroff/marker`;
  const dir = project({
    'inv.yml': inventoryYaml(),
    'pb.yml': `- hosts: all
  tasks:
    - file: { path: ${BASE}/poweroff, state: directory }
    - copy: { content: "on {{ ansible_hostname }}\\n", dest: ${marker} }
`,
  });
  let run: Run | undefined;
  await exclusiveLab('poweroff lab4', async () => {
    labCommand(['poweroff', 'lab4']);
    try {
      run = tsplayRun(dir, 'pb.yml', 'inv.yml', ['--timeout', '5']);
    } finally {
      labCommand(['start', 'lab4']);
      const s = await waitForSsh('lab4');
      process.stdout.write(`[ssh e2e] lab4 answered ssh ${s.toFixed(1)} s after 'lab start' returned\n`);
    }
  });
  const r = run!;
  process.stdout.write(`[ssh e2e] run with lab4 powered off (--timeout 5): ${r.seconds.toFixed(1)} s\n`);
  expectExit(r, 4);
  // the connect timeout is 5 s; the others must not wait for lab4 beyond that
  expect(r.seconds).toBeLessThan(30);
  const rc = recapOf(r);
  expect(rc.lab4).toMatchObject({ unreachable: 1, ok: 0, changed: 0 });
  const down = hostResults(r, 'lab4', 'unreachable');
  expect(down).toHaveLength(1);
  expect(down[0].msg).toMatch(/lab4.*(timed out|no route)/);
  for (const h of LAB_HOSTS.filter((x) => x !== 'lab4')) {
    expect([h, rc[h]]).toMatchObject([h, { changed: 2, failed: 0, unreachable: 0 }]);
    expect(labSh(h, `cat ${marker}`)).toBe(`on ${h}\n`);
  }
  expect(remoteExists('lab4', `${BASE}/poweroff`)).toBe(false);
}, STEP_MS);

const PWNED_NAME = 'tsplay-e2e-pwned';

/** Where a command injected through a name or content would have left its trace. */
function pwnedOn(host: string): string[] {
  const places = ['/tmp/pwned', `/${PWNED_NAME}`, `/root/${PWNED_NAME}`, `/home/${DEPLOY_USER}/${PWNED_NAME}`, `/tmp/${PWNED_NAME}`, `${BASE}/${PWNED_NAME}`];
  return labSh(host, places.map((p) => `if test -e ${quote(p)}; then echo ${quote(p)}; fi`).join('; ')).split('\n').filter(Boolean);
}

test('hostile names and contents reach the hosts byte for byte and execute nothing', () => {
  const d = `${BASE}/hostile`;
  const names = [
    `sp ace 'single' "double"`,
    // a name cannot hold '/': these would create PWNED_NAME in the remote shell's directory
    `$(touch ${PWNED_NAME})`,
    `\`touch ${PWNED_NAME}\``,
    `x;touch ${PWNED_NAME};'$(touch ${PWNED_NAME})'`,
    'semi;colon|pipe&amp>gt<lt*star?q',
    'new\nline',
    'ünïcødé ✓ 日本 🚀',
    '-leading-dash',
  ];
  const contents = names.map((n, i) => `line one of ${i}: ${n}\n$(touch /tmp/pwned) \`touch /tmp/pwned\` '"\\ \t tab\n\nünï ✓ 🚀 \\n literal\n${'x'.repeat(i * 1000)}no final newline`);
  const line = `key = "$(touch /tmp/pwned)" 'q' \`id\` ✓ \\1 $HOME`;
  const tasks = names
    .map(
      (n, i) => `    - copy: { content: ${JSON.stringify(contents[i])}, dest: ${JSON.stringify(`${d}/${n}`)}, mode: '0640' }
    - file: { path: ${JSON.stringify(`${d}/dir ${n}`)}, state: directory }
    - template: { src: t.j2, dest: ${JSON.stringify(`${d}/dir ${n}/t ${n}`)} }
      vars: { v: ${JSON.stringify(contents[i])} }`,
    )
    .join('\n');
  const dir = project({
    'inv.yml': inventoryYaml(),
    't.j2': '{{ v }}',
    'pb.yml': `- hosts: all
  gather_facts: false
  vars:
    hostile_line: ${JSON.stringify(line)}
  tasks:
    - file: { path: ${d}, state: directory }
${tasks}
    - lineinfile: { path: ${JSON.stringify(`${d}/lines ${names[0]}`)}, line: "{{ hostile_line }}", create: true }
`,
  });
  fs.rmSync('/tmp/pwned', { force: true });
  for (const h of LAB_HOSTS) labSh(h, `rm -f /tmp/pwned /${PWNED_NAME} /root/${PWNED_NAME} /home/${DEPLOY_USER}/${PWNED_NAME} /tmp/${PWNED_NAME}`);
  const run = tsplayRun(dir, 'pb.yml', 'inv.yml');
  expectExit(run, 0);
  expect(changed(run)).toEqual(allHosts(2 + names.length * 3));
  const expected = new Map<string, string>();
  expected.set(`${d}/lines ${names[0]}`, sha256(`${line}\n`));
  names.forEach((n, i) => {
    expected.set(`${d}/${n}`, sha256(contents[i]));
    expected.set(`${d}/dir ${n}/t ${n}`, sha256(contents[i]));
  });
  for (const h of LAB_HOSTS) {
    // the names as the host has them, NUL-separated, compared as bytes
    const listed = labSh(h, `cd ${d} && find . -mindepth 1 -printf '%P\\0' | od -An -v -tx1 | tr -d ' \\n'`).trim();
    const found = Buffer.from(listed, 'hex').toString('utf8').split('\0').filter(Boolean).sort();
    const want = [...expected.keys(), ...names.map((n) => `${d}/dir ${n}`)].map((p) => p.slice(d.length + 1)).sort();
    expect(found).toEqual(want);
    const hashes = labSh(h, [...expected.keys()].map((p) => `sha256sum < ${quote(p)} | cut -c1-64`).join('; ')).trim().split('\n');
    expect([h, hashes]).toEqual([h, [...expected.values()]]);
    expect([h, pwnedOn(h)]).toEqual([h, []]);
  }
  expect(fs.existsSync('/tmp/pwned')).toBe(false);
  expect(fs.existsSync(path.join(dir, PWNED_NAME))).toBe(false);
  // and idempotent with such names too
  const again = tsplayRun(dir, 'pb.yml', 'inv.yml');
  expectExit(again, 0);
  expect(changed(again)).toEqual(allHosts(0));
  for (const h of LAB_HOSTS) expect([h, pwnedOn(h)]).toEqual([h, []]);
}, STEP_MS);

test('speed: a 20-task run with nothing to change on 5 hosts', () => {
  const d = `${BASE}/speed`;
  const t: string[] = [];
  for (let i = 1; i <= 5; i++) t.push(`    - file: { path: ${d}/d${i}, state: directory, mode: '0755' }`);
  for (let i = 1; i <= 5; i++) t.push(`    - copy: { content: "file ${i} on {{ inventory_hostname }}\\n", dest: ${d}/d${i}/copy.txt, mode: '0644' }`);
  for (let i = 1; i <= 5; i++) t.push(`    - template: { src: t.j2, dest: ${d}/d${i}/t.conf, mode: '0600' }`);
  for (let i = 1; i <= 5; i++) t.push(`    - lineinfile: { path: ${d}/d${i}/lines.conf, line: "key${i} = {{ inventory_hostname }}", create: true }`);
  const dir = project({
    'inv.yml': inventoryYaml(),
    't.j2': 'host={{ inventory_hostname }}\n',
    'pb.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n${t.join('\n')}\n`,
  });
  const first = tsplayRun(dir, 'pb.yml', 'inv.yml');
  expectExit(first, 0);
  expect(changed(first)).toEqual(allHosts(20));
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const run = tsplayRun(dir, 'pb.yml', 'inv.yml');
    expectExit(run, 0);
    expect(changed(run)).toEqual(allHosts(0));
    expect(Object.values(recapOf(run)).every((c) => c.ok === 20)).toBe(true);
    times.push(run.seconds);
  }
  const sorted = [...times].sort((a, b) => a - b);
  // eslint-disable-next-line no-console
  console.log(
    `[ssh e2e] 20 tasks x 5 hosts, nothing to change: median ${sorted[1].toFixed(2)} s wall (runs: ${times.map((x) => x.toFixed(2)).join(', ')} s; first run, all changed: ${first.seconds.toFixed(2)} s)`,
  );
}, STEP_MS);
