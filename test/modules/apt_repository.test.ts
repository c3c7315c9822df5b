import aptRepository, { deb822Has, editSources, parseSource, suggestFilename } from '../../modules/apt_repository';
import { FakeRemote, runModule, validateArgs } from '../helpers/fake-remote';

const LOCAL = 'deb [trusted=yes] file:/srv/repo ./';
const MAIN = 'deb http://deb.debian.org/debian bookworm main contrib\n# deb-src http://deb.debian.org/debian bookworm main\n';
const LIST = /^for f in \/etc\/apt\/sources.list /;

describe('apt_repository: sources (pure)', () => {
  it('parses, keys ignore blanks and a trailing slash; names a file as Ansible does', () => {
    expect(parseSource('deb  [arch=amd64  signed-by=/k.gpg] https://x.org/apt/ bookworm main')).toEqual({ type: 'deb', options: 'arch=amd64 signed-by=/k.gpg', uri: 'https://x.org/apt', suite: 'bookworm', components: ['main'] });
    expect(suggestFilename('deb http://apt.postgresql.org/pub/repos/apt bookworm-pgdg main')).toBe('apt_postgresql_org_pub_repos_apt');
    expect(suggestFilename(LOCAL)).toBe('file_srv_repo');
    expect(suggestFilename('deb https://user:pw@repo.example.com/debian stable main')).toBe('repo_example_com_debian');
  });
  it.each([
    ['appends', MAIN, 'deb http://x/y z main', 'present', MAIN + 'deb http://x/y z main\n'],
    ['uncomments a disabled copy', MAIN, 'deb-src http://deb.debian.org/debian/ bookworm main', 'present', MAIN.replace('# deb-src', 'deb-src')],
    ['absent removes enabled and commented copies', MAIN, 'deb-src http://deb.debian.org/debian bookworm main', 'absent', 'deb http://deb.debian.org/debian bookworm main contrib\n'],
  ] as const)('%s', (_n, text, line, state, want) => {
    expect(editSources(text, parseSource(line)!, state)).toEqual({ text: want, changed: true });
    expect(editSources(want, parseSource(line)!, state).changed).toBe(false);
  });
  it('deb822 stanzas', () => {
    const s = 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main non-free-firmware\n\nTypes: deb\nURIs: http://x/y\nSuites: z\nComponents: main\nEnabled: no\n';
    expect(deb822Has(s, parseSource('deb http://deb.debian.org/debian/ bookworm-updates main')!)).toBe(true);
    expect(deb822Has(s, parseSource('deb http://x/y z main')!)).toBe(false);
  });
});

describe('apt_repository module (fake host)', () => {
  const host = (extra: Record<string, string> = {}): FakeRemote => {
    const files: Record<string, string> = { '/etc/apt/sources.list': MAIN, ...extra };
    const r = new FakeRemote().addDir('/etc').addDir('/etc/apt').addDir('/etc/apt/sources.list.d');
    for (const [f, t] of Object.entries(files)) r.addFile(f, t);
    return r.onQuery(LIST, { stdout: Object.keys(files).join('\n') + '\n' });
  };

  it('no change: already in a .list or a deb822 .sources; only reads', async () => {
    const r = host({ '/etc/apt/sources.list.d/local.list': LOCAL + '\n' });
    expect((await runModule(aptRepository, { repo: 'deb [trusted=yes]  file:/srv/repo/ ./' }, r)).changed).toBe(false);
    const d = host({ '/etc/apt/sources.list.d/debian.sources': 'Types: deb\nURIs: http://x/y\nSuites: z\nComponents: main\n' });
    expect((await runModule(aptRepository, { repo: 'deb http://x/y z main' }, d)).changed).toBe(false);
    expect(r.mutations + d.mutations).toBe(0);
  });

  it('drift: a new file under sources.list.d, then apt-get update', async () => {
    const r = host().onExec(() => true, {});
    const res = await runModule(aptRepository, { repo: LOCAL, filename: 'local' }, r);
    expect(r.writes.map((w) => [w.path, w.data.toString(), w.opts.mode])).toEqual([['/etc/apt/sources.list.d/local.list', LOCAL + '\n', '0644']]);
    expect(r.execs).toEqual(['apt-get update -q']);
    expect(res.registered).toMatchObject({ sources_added: ['/etc/apt/sources.list.d/local.list'] });
  });

  it('absent: a sources.list.d file left empty is deleted; update_cache: false runs no update', async () => {
    const r = host({ '/etc/apt/sources.list.d/local.list': LOCAL + '\n' }).onExec(() => true, {});
    await runModule(aptRepository, { repo: LOCAL, state: 'absent', update_cache: false }, r);
    expect(r.execs).toEqual(['rm -f -- /etc/apt/sources.list.d/local.list']);
    const d = host({ '/etc/apt/sources.list.d/x.sources': 'Types: deb\nURIs: http://x/y\nSuites: z\nComponents: main\n' });
    await expect(runModule(aptRepository, { repo: 'deb http://x/y z main', state: 'absent' }, d)).rejects.toThrow('is configured in deb822 file(s) /etc/apt/sources.list.d/x.sources');
  });

  it('bad arguments', () => {
    expect(validateArgs(aptRepository, { repo: 'ppa:nginx/stable' }).valid).toBe(false);
    expect(validateArgs(aptRepository, { repo: 'deb http://x y\ndeb http://evil z' }).valid).toBe(false);
    expect(validateArgs(aptRepository, { repo: LOCAL, filename: '../../etc/passwd' }).valid).toBe(false);
    expect(validateArgs(aptRepository, {}).valid).toBe(false);
    expect(validateArgs(aptRepository, { repo: LOCAL, update_cache: 'no', mode: '0600' }).valid).toBe(true);
  });

  it('check mode: the write and the update are planned, nothing mutates', async () => {
    const r = host();
    const res = await runModule(aptRepository, { repo: LOCAL }, r, { check: true });
    expect(res.plan.changes.map((c) => (c.kind === 'write' ? c.path : c.command))).toEqual(['/etc/apt/sources.list.d/file_srv_repo.list', 'apt-get update -q']);
    expect(r.mutations).toBe(0);
  });
});
