/**
 * Issue 12, secrets with hostile characters: vault values and inventory passwords holding `'`,
 * `"`, `\` and spaces reach every output channel (the command line shown at -v, a shell line
 * built with `| quote`, loop labels, diffs, to_json, tool output that URL-encodes or base64s
 * them, failure messages, `debug: var=hostvars`) in the human and the json format at -vvv. No
 * encoding of any of them may appear anywhere in the output: raw, JSON-escaped (once or twice),
 * shell-quoted, URL-encoded, base64 (see runner/secrets.ts `encodings`); and the mask must stand
 * where each would have been.
 */
import fs from 'fs';
import path from 'path';
import { encodings, MASK } from '../../runner/secrets';
import { Vault } from '../../runner/vault';
import { makeProject, results, runTsplay, type TsplayRun } from '../helpers/run-tsplay';

jest.setTimeout(120_000);

const VAULT_PASSWORD = 'tsplay-h12-vault-pass';
const vault = new Vault([{ password: VAULT_PASSWORD }]);

/** Each one holds every character an encoding changes. */
const S = {
  /** a whole vault-encrypted group_vars file */
  fileVault: `it's-Vault"Pw\\one-8472`,
  /** an inline !vault value */
  inline: `Inline'Sec"ret\\two 3319`,
  /** INI inventory, host line */
  invPassword: `Inv'Pass"word\\3-5521`,
  /** INI inventory, [all:vars] */
  invBecome: `Bec0me'P"w\\4-7788`,
  /** group_vars/all.yml (plain, not vault) */
  sshPass: `SshPass'5"\\-9911`,
  /** host_vars/localhost.yml (plain, not vault) */
  becomePass: `BecPass'6"\\-2288 x`,
};

/** `key: !vault |` with the envelope indented under it. */
function inlineVault(key: string, value: string, indent = ''): string {
  const body = vault.encrypt(value).trimEnd().split('\n').map((l) => `${indent}  ${l}`).join('\n');
  return `${indent}${key}: !vault |\n${body}\n`;
}

/** INI host-line value: shell-like quoting, as Ansible's INI parser reads it. */
const iniQuote = (v: string): string => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

let dir: string;
let out: string;
const runs: Record<'human' | 'json', TsplayRun> = {} as never;

beforeAll(() => {
  dir = makeProject({
    'hosts.ini': `localhost ansible_connection=local ansible_password=${iniQuote(S.invPassword)}\n\n[all:vars]\nansible_become_password=${S.invBecome}\n`,
    'vault-pass.txt': `${VAULT_PASSWORD}\n`,
    'group_vars/all/vault.yml': vault.encrypt(`file_secret: ${JSON.stringify(S.fileVault)}\n`),
    'group_vars/all/plain.yml': `ansible_ssh_pass: ${JSON.stringify(S.sshPass)}\n${inlineVault('inline_secret', S.inline)}`,
    'host_vars/localhost.yml': `ansible_become_pass: ${JSON.stringify(S.becomePass)}\n`,
  });
  out = path.join(dir, 'out');
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(dir, 'site.yml'), `
- hosts: all
  gather_facts: false
  tasks:
    - name: command line
      command: printf %s {{ file_secret | quote }}
      register: printed

    - name: argv
      command:
        argv: [printf, "%s|%s", "{{ file_secret }}", "--password={{ inline_secret }}"]

    - name: shell line
      shell: "printf '%s' {{ inline_secret | quote }} | cat"

    - name: loop label
      debug:
        msg: "one item"
      loop:
        - { user: app, pw: "{{ file_secret }}" }
        - { user: "{{ inline_secret }}", pw: x }

    - name: diff
      copy:
        content: "pw={{ file_secret }}\\njson={{ {'p': inline_secret} | to_json }}\\n"
        dest: "{{ out }}/app.conf"

    - name: to_json
      debug:
        msg: "{{ {'a': file_secret, 'b': [inline_secret]} | to_json }}"

    - name: url-encoded by a tool
      command: "{{ node }} -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' {{ inline_secret | quote }}"

    - name: base64
      debug:
        msg: "Basic {{ file_secret | b64encode }}"

    - name: base64 inside a longer text, by a tool
      shell: "printf 'user:%s:x' {{ inline_secret | quote }} | base64 -w0; echo; printf 'ab:%s' {{ file_secret | quote }} | base64 -w0"

    - name: registered result
      debug:
        var: printed

    - name: hostvars
      debug:
        var: hostvars

    - name: inventory passwords
      debug:
        msg: "{{ ansible_password }} {{ ansible_become_password }} {{ ansible_ssh_pass }} {{ ansible_become_pass }}"

    - name: error message
      assert:
        that: false
        fail_msg: "rejected {{ inline_secret | to_json }} and {{ ansible_password | quote }}"
      ignore_errors: true

    - name: failure
      fail:
        msg: "giving up on {{ file_secret }} / {{ ansible_become_pass | to_json }}"
`);
  fs.writeFileSync(path.join(out, 'app.conf'), 'pw=old\n');
  for (const format of ['human', 'json'] as const) {
    fs.writeFileSync(path.join(out, 'app.conf'), 'pw=old\n');
    runs[format] = runTsplay(['run', path.join(dir, 'site.yml'), '-i', path.join(dir, 'hosts.ini'), '--vault-password-file', path.join(dir, 'vault-pass.txt'),
      '-e', `out=${out}`, '-e', `node=${process.execPath}`, '--diff', '-vvv', ...(format === 'json' ? ['--format', 'json'] : [])], { cwd: dir });
  }
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every encoding of every secret (and any 8 characters of the raw value) found in `text`. */
function leaks(text: string, secret: string): string[] {
  const fragments = [...Array(Math.max(0, secret.length - 7)).keys()].map((i) => secret.slice(i, i + 8));
  return [...encodings(secret), ...fragments]
    .filter((f) => text.includes(f))
    .map((f) => `${f} at ...${text.slice(Math.max(0, text.indexOf(f) - 60), text.indexOf(f) + f.length + 20)}...`);
}

describe.each(['human', 'json'] as const)('%s output at -vvv', (format) => {
  test('the run went through (the failure at the end is the last task)', () => {
    const r = runs[format];
    expect({ code: r.code, stderr: r.stderr.includes('INTERNAL') }).toEqual({ code: 2, stderr: false });
    expect(r.stdout).toContain(MASK);
    // the secrets did reach the host: the masks stand for real values
    expect(fs.readFileSync(path.join(out, 'app.conf'), 'utf8')).toContain(`pw=${S.fileVault}\n`);
  });

  test.each(Object.keys(S) as Array<keyof typeof S>)('no encoding of %s anywhere', (name) => {
    const r = runs[format];
    expect(leaks(r.stdout + r.stderr, S[name])).toEqual([]);
  });
});

/** Each channel, in the json events: its task shows the mask where a secret was. */
const CHANNELS: Array<[string, (e: Record<string, any>) => unknown]> = [
  ['command line', (e) => e.result.cmd],
  ['argv', (e) => e.result.cmd],
  ['shell line', (e) => e.result.cmd],
  ['loop label', (e) => e.item],
  ['diff', (e) => e.diff?.[0]?.after],
  ['to_json', (e) => e.result.msg],
  ['url-encoded by a tool', (e) => e.result.stdout],
  ['base64', (e) => e.result.msg],
  ['base64 inside a longer text, by a tool', (e) => e.result.stdout],
  ['registered result', (e) => e.result.printed.stdout],
  ['hostvars', (e) => e.result.hostvars.localhost.ansible_password],
  ['inventory passwords', (e) => e.result.msg],
  ['error message', (e) => e.result.msg],
  ['failure', (e) => e.result.msg],
];

test.each(CHANNELS)('json channel "%s": masked where the secret stood', (task, pick) => {
  const events = results(runs.json, task).filter((e) => !(e.item === undefined && task === 'loop label'));
  expect(events.length).toBeGreaterThan(0);
  for (const e of events) {
    const shown = pick(e);
    expect(typeof shown).toBe('string');
    expect(shown).toContain(MASK);
    for (const s of Object.values(S)) expect(leaks(JSON.stringify(e), s)).toEqual([]);
  }
});

test('human: the command line at -v, the loop labels and the diff carry the mask', () => {
  const text = runs.human.stdout;
  expect(text).toMatch(new RegExp(`printf %s ${MASK.replace(/\*/g, '\\*')}`));
  expect(text).toContain(`"pw":"${MASK}"`);
  expect(text).toMatch(/^\+pw=\*{8}$/m);
});
