/**
 * apt_repository: one APT source line, in sources.list or a file under sources.list.d. Every
 * source file is read through the Probe, so a repository already there (one-line or deb822
 * `.sources`) is no change; the edit of a file is a pure function. `tsplay doc apt_repository`.
 */

import { defineModule, ModuleFailure, sh, type Change } from '../runner/module-api';
import { OCTAL_MODE_SCHEMA, modeArg } from './lib/attrs';

export interface AptRepositoryArgs {
  repo: string;
  state: 'present' | 'absent';
  filename?: string;
  update_cache: boolean;
  mode?: string | number;
  codename?: string;
  validate_certs: boolean;
  install_python_apt: boolean;
}

export interface Source {
  type: string;
  options: string;
  uri: string;
  suite: string;
  components: string[];
}

export const LISTS_DIR = '/etc/apt/sources.list.d';
const LINE = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)((?:\s+[^\s#]+)*)\s*(?:#.*)?$/;

/** A one-line source (`deb [opts] uri suite comp...`), or undefined. */
export function parseSource(line: string): Source | undefined {
  const m = LINE.exec(line.trim());
  if (!m) return undefined;
  return { type: m[1], options: (m[2] ?? '').trim().split(/\s+/).filter(Boolean).join(' '), uri: m[3].replace(/\/+$/, ''), suite: m[4], components: m[5].trim().split(/\s+/).filter(Boolean) };
}

/** Two lines name the same source when these keys are equal (blanks and a trailing `/` do not matter). */
export function sourceKey(s: Source): string {
  return [s.type, s.options, s.uri, s.suite, ...s.components].join(' ');
}

/** The file name Ansible would choose: the host and path of the URI, non-alphanumerics as `_`. */
export function suggestFilename(line: string): string {
  const words = line.replace(/\[[^\]]*\]/g, '').replace(/\w+:\/\//g, '').split(/\s+/).filter((w) => w && w !== 'deb' && w !== 'deb-src');
  const first = (words[0] ?? '').replace(/^.*@/, '');
  return first.replace(/[^A-Za-z0-9]+/g, ' ').trim().split(' ').join('_');
}

/** The file with `want` enabled (uncommented if it is there commented out, else appended) or with every copy removed. */
export function editSources(text: string, want: Source, state: 'present' | 'absent'): { text: string; changed: boolean } {
  const key = sourceKey(want);
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  let done = false;
  for (const l of lines) {
    const commented = /^\s*#/.test(l);
    const s = parseSource(l.replace(/^\s*#+\s*/, ''));
    if (!s || sourceKey(s) !== key) {
      out.push(l);
      continue;
    }
    if (state === 'absent') continue;
    out.push(commented && !done ? l.replace(/^\s*#+\s*/, '') : l);
    done = true;
  }
  if (state === 'present' && !done) out.push([want.type, want.options ? `[${want.options}]` : '', want.uri, want.suite, ...want.components].filter(Boolean).join(' '));
  const result = out.length ? out.join('\n') + '\n' : '';
  return { text: result, changed: result !== text };
}

/** Whether a deb822 `.sources` text enables `want` (every component of it in one stanza). */
export function deb822Has(text: string, want: Source): boolean {
  return text.split(/\n\s*\n/).some((stanza) => {
    const f: Record<string, string> = {};
    for (const l of stanza.split('\n')) {
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(l);
      if (m) f[m[1].toLowerCase()] = m[2];
    }
    const list = (k: string): string[] => (f[k] ?? '').split(/\s+/).filter(Boolean);
    if ((f.enabled ?? 'yes').toLowerCase() === 'no') return false;
    return (
      list('types').includes(want.type) &&
      list('uris').some((u) => u.replace(/\/+$/, '') === want.uri) &&
      list('suites').includes(want.suite) &&
      want.components.every((c) => list('components').includes(c))
    );
  });
}

/** Lists the source files; a constant script, no user value in it. */
const LIST_FILES = `for f in /etc/apt/sources.list ${LISTS_DIR}/*.list ${LISTS_DIR}/*.sources; do [ -f "$f" ] && printf '%s\\n' "$f"; done; exit 0`;

export default defineModule<AptRepositoryArgs>({
  name: 'apt_repository',
  description: 'Add or remove an APT source line (sources.list.d), then apt-get update.',
  notes:
    'A repository is there when any enabled line of /etc/apt/sources.list or sources.list.d/*.list names the same type, ' +
    'options, URI, suite and components, or a deb822 .sources stanza covers it. A commented-out copy is uncommented; ' +
    'a new one goes to sources.list.d/FILENAME.list (the name Ansible derives from the URI without filename). absent ' +
    'removes every copy from the .list files and deletes a sources.list.d file it leaves empty; a copy in a .sources ' +
    'file is an error naming it. PPAs (ppa:) are Ubuntu-only and not supported; codename is accepted for them only.',
  schema: {
    type: 'object',
    properties: {
      repo: { type: 'string', pattern: '^(deb|deb-src)\\s[^\\n]+$', description: "The source line, e.g. 'deb [trusted=yes] file:/srv/repo ./'." },
      state: { type: 'string', enum: ['present', 'absent'], default: 'present', description: 'Whether the source is configured.' },
      filename: { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*$', description: 'The file under sources.list.d, without .list.' },
      update_cache: { type: 'boolean', default: true, description: 'Run apt-get update after a change.' },
      mode: { ...OCTAL_MODE_SCHEMA, description: 'Permissions of a new source file (default 0644).' },
      codename: { type: 'string', description: 'For PPAs only (not supported): accepted and ignored.' },
      validate_certs: { type: 'boolean', default: true, description: 'Accepted for compatibility (nothing is downloaded).' },
      install_python_apt: { type: 'boolean', default: true, description: 'Accepted for compatibility (python-apt is not needed).' },
    },
    required: ['repo'],
    additionalProperties: false,
  },
  example: `- apt_repository:
    repo: deb [trusted=yes] file:/srv/repo ./
    filename: local
- apt_repository:
    repo: deb http://apt.postgresql.org/pub/repos/apt bookworm-pgdg main
    state: present`,
  checkMode: 'Reads every source file; reports the edit (diff) and the apt-get update it would run.',
  returns: 'repo, state, sources_added, sources_removed.',
  async plan(args, ctx) {
    const want = parseSource(args.repo);
    if (!want) throw new ModuleFailure(`not a source line: ${args.repo} (deb|deb-src [options] URI SUITE [COMPONENT...])`, { repo: args.repo });
    const listing = await ctx.remote.query(LIST_FILES);
    const files = listing.stdout.split('\n').filter(Boolean);
    const texts = await Promise.all(files.map(async (f) => [f, (await ctx.remote.readFile(f))?.toString('utf8') ?? ''] as const));
    const result = { repo: args.repo, state: args.state, sources_added: [] as string[], sources_removed: [] as string[] };
    const changes: Change[] = [];
    const key = sourceKey(want);
    const enabledIn = (t: string): boolean => t.split('\n').some((l) => !/^\s*#/.test(l) && parseSource(l) && sourceKey(parseSource(l)!) === key);
    const deb822 = texts.filter(([f, t]) => f.endsWith('.sources') && deb822Has(t, want)).map(([f]) => f);
    const lists = texts.filter(([f]) => f.endsWith('.list'));
    if (args.state === 'present') {
      if (deb822.length || lists.some(([, t]) => enabledIn(t))) return { changes: [], result };
      const commentedIn = (t: string): boolean => t.split('\n').some((l) => /^\s*#/.test(l) && sourceKey(parseSource(l.replace(/^\s*#+\s*/, '')) ?? { ...want, type: '' }) === key);
      const commented = lists.find(([, t]) => commentedIn(t));
      const file = commented?.[0] ?? `${LISTS_DIR}/${args.filename ?? suggestFilename(args.repo)}.list`;
      const before = commented?.[1] ?? texts.find(([f]) => f === file)?.[1] ?? null;
      const edit = editSources(before ?? '', want, 'present');
      changes.push({ kind: 'write', summary: `add ${args.repo} to ${file}`, path: file, before, after: edit.text, mode: before === null ? (modeArg(args.mode) ?? '0644') : undefined });
      result.sources_added.push(file);
    } else {
      if (deb822.length) throw new ModuleFailure(`${args.repo} is configured in deb822 file(s) ${deb822.join(', ')}: edit or remove them (not changed here)`, { files: deb822 });
      for (const [f, t] of lists) {
        const edit = editSources(t, want, 'absent');
        if (!edit.changed) continue;
        result.sources_removed.push(f);
        if (edit.text.trim() === '' && f.startsWith(`${LISTS_DIR}/`)) changes.push({ kind: 'exec', summary: `remove ${f}`, command: sh`rm -f -- ${f}`, diff: { path: f, before: t, after: '' } });
        else changes.push({ kind: 'write', summary: `remove ${args.repo} from ${f}`, path: f, before: t, after: edit.text });
      }
    }
    if (changes.length && args.update_cache) changes.push({ kind: 'exec', summary: 'apt-get update', command: 'apt-get update -q', opts: { env: { DEBIAN_FRONTEND: 'noninteractive' } } });
    return { changes, result };
  },
});
