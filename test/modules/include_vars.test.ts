import * as fs from 'fs';
import * as path from 'path';
import includeVars from '../../modules/include_vars';
import { FakeRemote, makeTempDir, runModule, validateArgs } from '../helpers/fake-remote';

describe('include_vars', () => {
  let base: string;
  beforeAll(() => {
    base = makeTempDir();
    fs.mkdirSync(path.join(base, 'vars', 'clusters', 'deep'), { recursive: true });
    fs.writeFileSync(path.join(base, 'vars', 'Debian.yml'), 'pkg: apt\nlist: [1, 2]\n');
    fs.writeFileSync(path.join(base, 'vars', 'clusters', 'b.yml'), 'b: 2\nshared: from-b\n');
    fs.writeFileSync(path.join(base, 'vars', 'clusters', 'a.json'), '{"a": 1, "shared": "from-a"}');
    fs.writeFileSync(path.join(base, 'vars', 'clusters', 'notes.txt'), 'ignored');
    fs.writeFileSync(path.join(base, 'vars', 'clusters', 'deep', 'c.yaml'), 'c: 3\n');
    fs.writeFileSync(path.join(base, 'vars', 'list.yml'), '- 1\n');
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  it('a file: its variables become facts; no host access', async () => {
    const r = new FakeRemote();
    const res = await runModule(includeVars, { file: 'Debian.yml' }, r, { baseDir: base });
    expect(res.changed).toBe(false);
    expect(res.plan.facts).toEqual({ pkg: 'apt', list: [1, 2] });
    expect(res.plan.result!.ansible_included_var_files).toEqual([path.join(base, 'vars', 'Debian.yml')]);
    expect(r.roundTrips).toBe(0);
  });

  it('a directory: sorted, recursive, later files win, under `name`', async () => {
    const r = new FakeRemote();
    const res = await runModule(includeVars, { dir: 'clusters', name: 'cl' }, r, { baseDir: base });
    expect(res.plan.facts).toEqual({ cl: { a: 1, b: 2, c: 3, shared: 'from-b' } });
    const shallow = await runModule(includeVars, { dir: 'clusters', depth: 1, files_matching: '^[ab]\\.' }, r, { baseDir: base });
    expect(shallow.plan.facts).toEqual({ a: 1, b: 2, shared: 'from-b' });
    const ign = await runModule(includeVars, { dir: 'clusters', ignore_files: ['b.yml'], extensions: ['json'] }, r, { baseDir: base, check: true });
    expect(ign.plan.facts).toEqual({ a: 1, shared: 'from-a' });
  });

  it('errors: missing file, a file that is not a mapping, a bad files_matching', async () => {
    const r = new FakeRemote();
    await expect(runModule(includeVars, { file: 'nope.yml' }, r, { baseDir: base })).rejects.toThrow(/could not find vars file 'nope.yml'/);
    await expect(runModule(includeVars, { file: 'list.yml' }, r, { baseDir: base })).rejects.toThrow(/not a mapping/);
    await expect(runModule(includeVars, { dir: 'clusters', files_matching: '(' }, r, { baseDir: base })).rejects.toThrow(/invalid files_matching/);
  });

  it('bad arguments', () => {
    expect(validateArgs(includeVars, {}).valid).toBe(false);
    expect(validateArgs(includeVars, { file: 'a', dir: 'b' }).valid).toBe(false);
    expect(validateArgs(includeVars, { file: 'a', name: 'has-dash' }).valid).toBe(false);
    expect(validateArgs(includeVars, { dir: 'a', depth: -1 }).valid).toBe(false);
    expect(includeVars.freeForm).toBe('file');
  });
});
