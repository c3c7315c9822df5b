/**
 * Issue 7, masking: vault values (a whole encrypted vars file, inline `!vault |` values, an
 * encrypted -e @file) and `no_log` tasks, run by the real CLI over the local connection at -vvv
 * in both output formats, with --check --diff and for real. The full stdout+stderr of every run
 * must not contain any secret, and the mask / the no_log marker must stand where they would be.
 */
import fs from 'fs';
import path from 'path';
import { MASK } from '../../runner/secrets';
import { Vault } from '../../runner/vault';
import { makeProject, results, runTsplay, type TsplayRun } from '../helpers/run-tsplay';

jest.setTimeout(120_000);

const VAULT_PASSWORD = 'tsplay-test-vault-pass';
const vault = new Vault([{ password: VAULT_PASSWORD }]);

/** Distinctive values: a hit of any of them in the output is a leak. */
const S = {
  /** group_vars/all/vault.yml, a whole encrypted file */
  pg: 'PgSuperS3cret-file-7731',
  /** group_vars/all/vault.yml, a second value of the encrypted file */
  rewind: 'Rew1nd-Secret-from-file-0042',
  /** inline `!vault |` value in group_vars */
  repl: 'ReplInl1ne-Secret-4412',
  /** inline `!vault |` value in play vars */
  stats: 'HaproxyStats-Inl1ne-9090',
  /** an encrypted -e @file */
  extra: 'ExtraVaultPw-e-file-3141',
  /** a plain (not vault) value used only in no_log tasks */
  nolog: 'NoLogPlainValue-2718',
};

/** `key: !vault |` with the envelope indented under it. */
function inlineVault(key: string, value: string, indent = ''): string {
  const body = vault.encrypt(value).trimEnd().split('\n').map((l) => `${indent}  ${l}`).join('\n');
  return `${indent}${key}: !vault |\n${body}\n`;
}

const NO_LOG_MARKER = "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function project(): { dir: string; out: string } {
  const dir = makeProject({
    'hosts.ini': 'localhost ansible_connection=local\n',
    'vault-pass.txt': `${VAULT_PASSWORD}\n`,
    'wrong-pass.txt': 'not-the-password\n',
    'group_vars/all/vault.yml': vault.encrypt(`vault_pg_password: ${S.pg}\nvault_rewind_password: "${S.rewind}"\n`),
    'group_vars/all/vars.yml': `pg_password: "{{ vault_pg_password }}"\n${inlineVault('repl_password', S.repl)}`,
    'extra-vault.yml': vault.encrypt(`extra_secret: ${S.extra}\n`),
    'templates/patroni.yml.j2': [
      'scope: demo',
      'postgresql:',
      '  authentication:',
      '    superuser:',
      '      username: postgres',
      '      password: {{ pg_password }}',
      '    replication:',
      '      username: replicator',
      '      password: "{{ repl_password }}"',
      '    rewind:',
      '      password: {{ vault_rewind_password }}',
      'haproxy_stats: {{ stats_password }}',
      'extra: {{ extra_secret }}',
      '',
    ].join('\n'),
    'site.yml': '',
  });
  made.push(dir);
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  // an existing file, so --diff has a before and an after
  fs.writeFileSync(path.join(out, 'patroni.yml'), 'scope: demo\npostgresql: {}\n');
  fs.writeFileSync(path.join(dir, 'site.yml'), `
- hosts: all
  gather_facts: false
  vars:
    out: ${out}
${inlineVault('stats_password', S.stats, '    ')}    nolog_value: ${S.nolog}
  tasks:
    - name: render patroni.yml
      template:
        src: templates/patroni.yml.j2
        dest: "{{ out }}/patroni.yml"
        mode: "0600"

    - name: debug a secret
      debug:
        msg: "superuser password is {{ pg_password }} and stats {{ stats_password }}"

    - name: echo a secret
      command: echo {{ repl_password }}
      register: echoed
      changed_when: false
      check_mode: false

    - name: show the registered result
      debug:
        var: echoed

    - name: failing command echoes secrets
      shell: "echo out={{ pg_password }}; echo err={{ extra_secret }} >&2; exit 3"
      ignore_errors: true
      check_mode: false

    - name: no_log write
      copy:
        content: "hidden {{ nolog_value }}\\n"
        dest: "{{ out }}/nolog.txt"
      no_log: true

    - name: no_log command
      command: echo {{ nolog_value }} {{ pg_password }}
      register: nolog_out
      no_log: true
      check_mode: false

    - name: no_log debug
      debug:
        msg: "{{ nolog_value }}"
      no_log: true

    - name: loop over secrets
      debug:
        msg: "item {{ item }}"
      loop:
        - "{{ pg_password }}"
        - "{{ extra_secret }}"

    - name: no_log failing command
      shell: "echo {{ nolog_value }}; echo {{ repl_password }} >&2; exit 5"
      no_log: true
      ignore_errors: true
      check_mode: false

    - name: no_log loop over secrets
      command: echo {{ item }}
      loop:
        - "{{ nolog_value }}"
        - "{{ repl_password }}"
      no_log: true
      check_mode: false

    - name: a secret where an integer belongs
      wait_for:
        port: "{{ pg_password }}"
        timeout: 1
      ignore_errors: true

    - name: a secret where a choice belongs
      file:
        path: "{{ out }}/never"
        state: "{{ stats_password }}"
      ignore_errors: true

    - name: failing assert names a secret
      assert:
        that: rewind_ok is defined
        fail_msg: "rewind password {{ vault_rewind_password }} not accepted"
      ignore_errors: true

    - name: undefined variable beside a secret
      debug:
        msg: "{{ repl_password }} {{ no_such_variable }}"
      ignore_errors: true

    - name: a filter error on a secret
      debug:
        msg: "{{ pg_password | from_json }}"
      ignore_errors: true

    - name: fail with a secret
      fail:
        msg: "giving up with {{ stats_password }} and {{ extra_secret }}"
`);
  return { dir, out };
}

function runIt(dir: string, extra: string[]): TsplayRun {
  return runTsplay(['run', path.join(dir, 'site.yml'), '-i', path.join(dir, 'hosts.ini'),
    '--vault-password-file', path.join(dir, 'vault-pass.txt'), '-e', `@${path.join(dir, 'extra-vault.yml')}`, '-vvv', ...extra], { cwd: dir });
}

/**
 * Which secrets (or a run of 8 characters of one: a message that quotes the start of a value,
 * like JSON.parse's, is a leak too) appear in `text`.
 */
function leaks(text: string): string[] {
  const found: string[] = [];
  for (const [name, secret] of Object.entries(S)) {
    if (text.includes(secret)) {
      found.push(`${name}: whole value ${secret}`);
      continue;
    }
    for (let i = 0; i + 8 <= secret.length; i++) {
      const part = secret.slice(i, i + 8);
      if (text.includes(part)) {
        const at = text.indexOf(part);
        found.push(`${name}: '${part}' of ${secret} in ...${text.slice(Math.max(0, at - 80), at + 40)}...`);
        break;
      }
    }
  }
  return found;
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

const MODES: Array<[string, string[]]> = [
  ['--check --diff', ['--check', '--diff']],
  ['a real run with --diff', ['--diff']],
];

describe.each(MODES)('%s', (_mode, modeArgs) => {
  const check = modeArgs.includes('--check');

  test('human output at -vvv: no secret, masks where they would be', () => {
    const { dir, out } = project();
    const r = runIt(dir, modeArgs);
    const all = r.stdout + r.stderr;
    // the play ends with `fail`: exit 2, and everything before it ran
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: expect.any(String) });
    expect(all).toContain('PLAY RECAP');
    expect(leaks(all)).toEqual([]);

    // the template diff shows the mask on each password line
    expect(all).toMatch(/^\+ {6}password: \*{8}$/m);
    expect(all).toMatch(/^\+ {6}password: "\*{8}"$/m);
    expect(all).toMatch(/^\+haproxy_stats: \*{8}$/m);
    expect(all).toMatch(/^\+extra: \*{8}$/m);
    expect(all).toContain(`superuser password is ${MASK} and stats ${MASK}`);
    expect(all).toContain(`"stdout": "${MASK}"`); // the registered result of echo
    expect(all).toContain(`out=${MASK}`);
    expect(all).toContain(`err=${MASK}`);
    expect(all).toContain(`rewind password ${MASK} not accepted`);
    expect(all).toContain(`giving up with ${MASK} and ${MASK}`);
    expect(all).toContain(`item ${MASK}`);
    // five no_log tasks, each result replaced by the marker (the loop: each of its 2 items and
    // the summary); the no_log copy shows no diff
    expect(count(all, NO_LOG_MARKER)).toBe(7);
    expect(all).not.toContain('nolog.txt');

    const rendered = fs.readFileSync(path.join(out, 'patroni.yml'), 'utf8');
    if (check) {
      expect(rendered).toBe('scope: demo\npostgresql: {}\n');
      expect(fs.existsSync(path.join(out, 'nolog.txt'))).toBe(false);
    } else {
      // the real values did reach the host: the masks above stand for real secrets
      for (const v of [S.pg, S.repl, S.rewind, S.stats, S.extra]) expect(rendered).toContain(v);
      expect(fs.readFileSync(path.join(out, 'nolog.txt'), 'utf8')).toBe(`hidden ${S.nolog}\n`);
    }
  });

  test('--format json at -vvv: no secret in any event, masks in results and diffs', () => {
    const { dir, out } = project();
    const r = runIt(dir, [...modeArgs, '--format', 'json']);
    const all = r.stdout + r.stderr;
    expect(r.code).toBe(2);
    expect(leaks(all)).toEqual([]);

    const one = (task: string): Record<string, any> => {
      const rs = results(r, task);
      expect(rs).toHaveLength(1);
      return rs[0];
    };
    const tpl = one('render patroni.yml');
    expect(tpl.status).toBe('changed');
    expect(tpl.diff).toHaveLength(1);
    expect(tpl.diff[0].after).toContain(`      password: ${MASK}\n`);
    expect(tpl.diff[0].after).toContain(`haproxy_stats: ${MASK}\n`);
    expect(one('debug a secret').result.msg).toBe(`superuser password is ${MASK} and stats ${MASK}`);
    expect(one('echo a secret').result.stdout).toBe(MASK);
    expect(one('show the registered result').result.echoed.stdout_lines).toEqual([MASK]);
    const failed = one('failing command echoes secrets');
    expect(failed).toMatchObject({ status: 'failed', ignored: true });
    expect(failed.result).toMatchObject({ rc: 3, stdout: `out=${MASK}`, stderr: `err=${MASK}` });
    for (const t of ['no_log write', 'no_log command', 'no_log debug', 'no_log failing command', 'no_log loop over secrets']) {
      const events = results(r, t);
      expect(events.length).toBe(t === 'no_log loop over secrets' ? 3 : 1); // a loop: 2 items and the summary
      for (const e of events) {
        expect({ task: t, result: e.result, diff: e.diff }).toEqual({ task: t, result: { censored: NO_LOG_MARKER }, diff: undefined });
      }
    }
    expect(one('no_log failing command').status).toBe('failed');
    expect(one('fail with a secret').result.msg).toBe(`giving up with ${MASK} and ${MASK}`);
    expect(fs.readFileSync(path.join(out, 'patroni.yml'), 'utf8').includes(S.pg)).toBe(!check);
  });
});

test('an error that ends the run is masked too (a playbook vars_files vault, an include named by a secret)', () => {
  const { dir } = project();
  fs.writeFileSync(path.join(dir, 'play-vault.yml'), vault.encrypt(`play_secret: ${S.stats}\n`));
  fs.writeFileSync(path.join(dir, 'include.yml'), `
- hosts: all
  gather_facts: false
  vars_files: [play-vault.yml]
  tasks:
    - include_tasks: "{{ play_secret }}.yml"
`);
  for (const format of [[], ['--format', 'json']]) {
    const r = runTsplay(['run', path.join(dir, 'include.yml'), '-i', path.join(dir, 'hosts.ini'),
      '--vault-password-file', path.join(dir, 'vault-pass.txt'), '-vvv', ...format], { cwd: dir });
    const all = r.stdout + r.stderr;
    expect([1, 2]).toContain(r.code);
    expect(all).toContain(`included file '${MASK}.yml' not found`);
    expect(leaks(all)).toEqual([]);
  }
});

describe('vault errors', () => {
  test('a wrong vault password names the encrypted file, exit 1, no stack trace', () => {
    const { dir } = project();
    for (const [args, file] of [
      // the inventory holds a whole encrypted file and an inline value: either may fail first
      [[], 'group_vars/all/'],
      [['-e', `@${path.join(dir, 'extra-vault.yml')}`], 'extra-vault.yml'],
    ] as Array<[string[], string]>) {
      // a correct password for the inventory, a wrong one for the -e file: re-encrypt it
      if (file === 'extra-vault.yml') {
        fs.writeFileSync(path.join(dir, 'extra-vault.yml'), new Vault([{ password: 'another' }]).encrypt(`extra_secret: ${S.extra}\n`));
      }
      const pass = file === 'extra-vault.yml' ? 'vault-pass.txt' : 'wrong-pass.txt';
      const r = runTsplay(['run', path.join(dir, 'site.yml'), '-i', path.join(dir, 'hosts.ini'),
        '--vault-password-file', path.join(dir, pass), ...args], { cwd: dir });
      const all = r.stdout + r.stderr;
      expect({ file, code: r.code }).toEqual({ file, code: 1 });
      expect(r.stderr).toMatch(/Decryption failed/);
      expect(r.stderr).toContain(path.join(dir, file));
      if (file.endsWith('/')) expect(r.stderr).toMatch(/group_vars\/all\/(vault\.yml|vars\.yml:2:\d+): Decryption failed/);
      expect(all).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m); // no stack frame
      expect(all).not.toContain('TASK [');               // nothing ran
      expect(leaks(all)).toEqual([]);
    }
  });

  test('a corrupted vault file names the file, exit 1, no stack trace', () => {
    const { dir } = project();
    const f = path.join(dir, 'group_vars/all/vault.yml');
    const text = fs.readFileSync(f, 'utf8').split('\n');
    text[3] = text[3].slice(0, 20); // truncate a line of the hex body
    fs.writeFileSync(f, text.join('\n'));
    const r = runTsplay(['run', path.join(dir, 'site.yml'), '-i', path.join(dir, 'hosts.ini'),
      '--vault-password-file', path.join(dir, 'vault-pass.txt')], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(f);
    expect(r.stdout + r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(r.stdout).not.toContain('TASK [');
  });
});
