/**
 * sysctl: a kernel parameter in a sysctl.conf-style file and, optionally, in the running kernel.
 * The file edit is a pure function (`editSysctl`); the live value is read from /proc/sys through
 * the Probe, so an unchanged parameter costs no command. `tsplay doc sysctl` shows the fields.
 */

import { defineModule, ModuleFailure, sh, type Change } from '../runner/module-api';

export interface SysctlArgs {
  name?: string;
  key?: string;
  value?: string | number | boolean;
  val?: string | number | boolean;
  state: 'present' | 'absent';
  sysctl_file: string;
  reload: boolean;
  sysctl_set: boolean;
  ignoreerrors: boolean;
}

/** A key as sysctl(8) names it: dots between levels, `/` for a dot inside one (eth0/100). */
const KEY = '^[A-Za-z0-9_][A-Za-z0-9_.*/:@+-]*$';

/** How a value compares: yes/on/true are 1, no/off/false are 0, runs of blanks are one space. */
export function normaliseValue(v: string | number | boolean): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  const s = String(v).trim();
  const w = s.toLowerCase();
  if (w === 'yes' || w === 'on' || w === 'true') return '1';
  if (w === 'no' || w === 'off' || w === 'false') return '0';
  return s.split(/\s+/).join(' ');
}

/** The /proc/sys file of a key: `.` and `/` swap roles (net.ipv4.conf.eth0/100.rp_filter). */
export function procPath(key: string): string {
  return '/proc/sys/' + key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

/** `key = value` of a line, or undefined for comments, blanks and lines without `=`. */
function entryOf(line: string): { key: string; value: string } | undefined {
  const t = line.trim();
  if (t === '' || t.startsWith('#') || t.startsWith(';')) return undefined;
  const i = t.indexOf('=');
  if (i < 0) return undefined;
  return { key: t.slice(0, i).trim(), value: t.slice(i + 1).trim() };
}

export interface SysctlEdit {
  text: string;
  changed: boolean;
  /** the value the file held for the key (its last entry, as sysctl -p applies them), if any */
  before?: string;
}

/**
 * The file with `key` set to `value` (present) or without any entry for it (absent). The first
 * entry for the key is rewritten as `key=value`, later duplicates are dropped (they would win at
 * `sysctl -p`), every other line is kept byte for byte; a missing key is appended.
 */
export function editSysctl(text: string, key: string, state: 'present' | 'absent', value?: string): SysctlEdit {
  const lines = text === '' ? [] : text.split(/(?<=\n)/);
  const out: string[] = [];
  let before: string | undefined;
  let seen = false;
  for (const line of lines) {
    const e = entryOf(line);
    if (!e || e.key !== key) {
      out.push(line);
      continue;
    }
    before = e.value;
    if (state === 'present' && !seen) out.push(normaliseValue(e.value) === value ? line : `${key}=${value}\n`);
    seen = true;
  }
  if (state === 'present' && !seen) {
    if (out.length && !out[out.length - 1].endsWith('\n')) out[out.length - 1] += '\n';
    out.push(`${key}=${value}\n`);
  }
  const result = out.join('');
  return { text: result, changed: result !== text, before };
}

export default defineModule<SysctlArgs>({
  name: 'sysctl',
  description: 'Set a kernel parameter in a sysctl file and (reload, sysctl_set) in the running kernel.',
  notes:
    'Also answers to ansible.posix.sysctl. Values compare as Ansible compares them: yes/on/true are 1, no/off/false are 0, ' +
    'runs of blanks are one blank. A changed file is reloaded with `sysctl -p FILE` (reload, the default); sysctl_set ' +
    'also compares the live value in /proc/sys and sets it with `sysctl -w`.',
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', pattern: KEY, maxLength: 256, description: 'The key, e.g. net.ipv4.ip_forward (never starting with "-"). Alias: key.' },
      key: { type: 'string', pattern: KEY, maxLength: 256, description: 'Alias of name.' },
      value: { type: ['string', 'number', 'boolean'], description: 'The value (state=present). Alias: val.' },
      val: { type: ['string', 'number', 'boolean'], description: 'Alias of value.' },
      state: { type: 'string', enum: ['present', 'absent'], default: 'present', description: 'Whether the entry is in the file.' },
      sysctl_file: { type: 'string', pattern: '^/', default: '/etc/sysctl.conf', description: 'The file holding the entry (absolute).' },
      reload: { type: 'boolean', default: true, description: 'Run `sysctl -p sysctl_file` when the file changed.' },
      sysctl_set: { type: 'boolean', default: false, description: 'Also compare the live value (/proc/sys) and set it with `sysctl -w`.' },
      ignoreerrors: { type: 'boolean', default: false, description: 'Reload with `sysctl -e`: unknown keys are not an error.' },
    },
    additionalProperties: false,
    anyOf: [{ required: ['name'] }, { required: ['key'] }],
    allOf: [
      { not: { required: ['name', 'key'] } },
      { not: { required: ['value', 'val'] } },
      {
        if: { properties: { state: { const: 'absent' } }, required: ['state'] },
        else: { anyOf: [{ required: ['value'] }, { required: ['val'] }] },
      },
    ],
  },
  example: `- sysctl:
    name: net.ipv4.ip_forward
    value: "1"
    sysctl_file: /etc/sysctl.d/60-forward.conf
    sysctl_set: true
- ansible.posix.sysctl:
    name: vm.swappiness
    state: absent`,
  checkMode: 'Reads the file (and /proc/sys with sysctl_set); reports the write with a diff and the sysctl commands it would run.',
  returns: 'name, value, state, sysctl_file.',
  async plan(args, ctx) {
    const a = args;
    const key = (a.name ?? a.key)!;
    const raw = a.value ?? a.val;
    const value = raw === undefined ? undefined : normaliseValue(raw);
    if (value !== undefined && /[\n\r\0]/.test(String(raw))) throw new ModuleFailure(`sysctl value of ${key} must be one line`, { name: key });
    const file = a.sysctl_file;
    const [data, st] = await Promise.all([ctx.remote.readFile(file), ctx.remote.stat([file])]);
    if (st[0].exists && st[0].type !== 'file' && st[0].type !== 'link') throw new ModuleFailure(`${file} is not a regular file`, { sysctl_file: file });
    const text = data?.toString('utf8') ?? '';
    const edit = editSysctl(text, key, a.state, value);
    const changes: Change[] = [];
    if (edit.changed) {
      changes.push({
        kind: 'write',
        summary: a.state === 'present' ? `set ${key}=${value} in ${file}` : `remove ${key} from ${file}`,
        path: file,
        before: data === null ? null : text,
        after: edit.text,
        mode: st[0].type === 'file' ? st[0].mode : '0644',
        owner: st[0].type === 'file' ? st[0].owner : undefined,
        group: st[0].type === 'file' ? st[0].group : undefined,
      });
    }
    let live: string | undefined;
    if (a.sysctl_set && a.state === 'present') {
      const cur = await ctx.remote.readFile(procPath(key)).catch(() => null);
      if (cur === null && !a.ignoreerrors) throw new ModuleFailure(`unknown sysctl key ${key} (no ${procPath(key)})`, { name: key });
      live = cur === null ? undefined : normaliseValue(cur.toString('utf8'));
      if (cur !== null && live !== value) {
        changes.push({
          kind: 'exec',
          summary: `sysctl -w ${key}=${value}`,
          command: sh`sysctl -w -- ${`${key}=${value}`}`,
          diff: { path: procPath(key), before: `${live}\n`, after: `${value}\n` },
        });
      }
    }
    if (edit.changed && a.reload) {
      changes.push({ kind: 'exec', summary: `reload ${file}`, command: a.ignoreerrors ? sh`sysctl -e -p -- ${file}` : sh`sysctl -p -- ${file}` });
    }
    return { changes, result: { name: key, value: value ?? edit.before, state: a.state, sysctl_file: file } };
  },
});
