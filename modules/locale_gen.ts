/**
 * locale_gen: whether a locale is generated on a Debian host. What is generated is read from
 * `locale -a`; a change is the /etc/locale.gen edit (a pure function, `editLocaleGen`) and one
 * `locale-gen`. `tsplay doc locale_gen` shows the fields.
 */

import { defineModule, lastLines, ModuleFailure, type Change } from '../runner/module-api';

export interface LocaleGenArgs {
  name: string | string[];
  state: 'present' | 'absent';
}

export const LOCALE_GEN = '/etc/locale.gen';
export const SUPPORTED = '/usr/share/i18n/SUPPORTED';

/** en_US.UTF-8 and en_US.utf8 (how `locale -a` prints it) are one locale. */
export function normaliseLocale(name: string): string {
  return name.replace(/\.([^@]+)/, (_m, cs: string) => '.' + cs.toLowerCase().replace(/-/g, ''));
}

/** The locale a locale.gen line names, whether commented out or not; undefined for other lines. */
function lineLocale(line: string): { name: string; enabled: boolean } | undefined {
  const m = /^(#)?\s*([A-Za-z][^\s#]*)\s+(\S+)\s*$/.exec(line);
  return m ? { name: m[2], enabled: m[1] === undefined } : undefined;
}

/**
 * locale.gen with `name` enabled (its line uncommented, or `supportedLine` appended when the
 * file has none) or disabled (commented out).
 */
export function editLocaleGen(text: string, name: string, state: 'present' | 'absent', supportedLine?: string): { text: string; changed: boolean } {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  let found = false;
  const out = lines.map((l) => {
    const e = lineLocale(l);
    if (!e || e.name !== name) return l;
    found = true;
    const rest = l.replace(/^#?\s*/, '');
    if (state === 'present') return e.enabled ? l : rest;
    return e.enabled ? `# ${rest}` : l;
  });
  if (!found && state === 'present' && supportedLine) out.push(supportedLine);
  const result = out.length ? out.join('\n') + '\n' : '';
  return { text: result, changed: result !== text };
}

export default defineModule<LocaleGenArgs>({
  name: 'locale_gen',
  description: 'Generate (or remove) locales on Debian: /etc/locale.gen and locale-gen.',
  notes:
    'Also answers to community.general.locale_gen. A locale counts as there when `locale -a` lists it (en_US.UTF-8 and ' +
    "en_US.utf8 are the same). It must be in /usr/share/i18n/SUPPORTED. Debian's locale-gen rebuilds every locale " +
    'enabled in /etc/locale.gen, so state=absent comments the line out and runs it too.',
  schema: {
    type: 'object',
    properties: {
      name: {
        type: ['string', 'array'],
        pattern: '^[A-Za-z][A-Za-z0-9_.@-]*$',
        items: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_.@-]*$' },
        description: 'The locale(s), e.g. en_US.UTF-8.',
      },
      state: { type: 'string', enum: ['present', 'absent'], default: 'present', description: 'Whether the locale is generated.' },
    },
    required: ['name'],
    additionalProperties: false,
  },
  example: `- locale_gen:
    name: en_US.UTF-8
- community.general.locale_gen:
    name: [de_DE.UTF-8, fr_FR.UTF-8]`,
  checkMode: 'Runs `locale -a` and reads /etc/locale.gen; reports the edit and the locale-gen run.',
  returns: 'name, state.',
  async plan(args, ctx) {
    const names = [args.name].flat();
    const la = await ctx.remote.query('locale -a', { env: { LC_ALL: 'C' } });
    if (la.rc !== 0) throw new ModuleFailure(`locale -a failed: ${lastLines(la.stderr || la.stdout, 3)}`, { rc: la.rc });
    const have = new Set(la.stdout.split('\n').map((l) => normaliseLocale(l.trim())));
    const todo = names.filter((n) => have.has(normaliseLocale(n)) !== (args.state === 'present'));
    const result = { name: args.name, state: args.state };
    if (!todo.length) return { changes: [], result };
    const [gen, sup] = await Promise.all([ctx.remote.readFile(LOCALE_GEN), ctx.remote.readFile(SUPPORTED)]);
    const supported = new Map((sup?.toString('utf8') ?? '').split('\n').flatMap((l) => (lineLocale(l) ? [[lineLocale(l)!.name, l.trim()] as const] : [])));
    let text = gen?.toString('utf8') ?? '';
    for (const n of todo) {
      if (args.state === 'present' && !supported.has(n)) {
        throw new ModuleFailure(`locale ${n} is not available on the host (not in ${SUPPORTED})`, { name: n });
      }
      text = editLocaleGen(text, n, args.state, supported.get(n)).text;
    }
    const changes: Change[] = [];
    const before = gen === null ? null : gen.toString('utf8');
    // a locale that is there without a locale.gen line (C.utf8 is built in): locale-gen would not remove it
    if (args.state === 'absent' && text === (before ?? '')) return { changes: [], result };
    if (text !== (before ?? '')) {
      changes.push({ kind: 'write', summary: `${args.state === 'present' ? 'enable' : 'disable'} ${todo.join(', ')} in ${LOCALE_GEN}`, path: LOCALE_GEN, before, after: text, mode: '0644' });
    }
    changes.push({ kind: 'exec', summary: `locale-gen (${todo.join(', ')} ${args.state})`, command: 'locale-gen' });
    return { changes, result };
  },
});
