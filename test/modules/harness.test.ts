/**
 * The module test harnesses (test/helpers/fake-remote.ts runModule, test/modules/ha/fake.ts
 * runTask) run modules through the engine's own pipeline (runner/executor/run-module.ts), so
 * what a module test proves holds for a playbook run: the registry's normalisation, ajv's
 * coercion and defaults, the registered result's shape, and check mode stopping before apply.
 */

import command from '../../modules/command';
import file from '../../modules/file';
import lineinfile from '../../modules/lineinfile';
import ping from '../../modules/ping';
import service from '../../modules/service';
import setFact from '../../modules/set_fact';
import stat from '../../modules/stat';
import { FakeRemote, runModule } from '../helpers/fake-remote';
import { FakeHost, readOnly, runTask } from './ha/fake';

afterEach(() => jest.restoreAllMocks());

describe('the module harnesses run the engine pipeline', () => {
  it('a yes/no word for a boolean argument is the boolean, as the registry normalises it', async () => {
    const r = new FakeRemote().addDir('/etc');
    const res = await runModule(lineinfile, { path: '/etc/new.conf', line: 'a=1', create: 'yes' }, r);
    expect(res.args.create).toBe(true);
    expect(res.changed).toBe(true);
    expect(r.content('/etc/new.conf')).toBe('a=1\n');
    // a word that is not a boolean is refused by the engine's validation, with its message
    await expect(runModule(lineinfile, { path: '/etc/x', line: 'a', create: 'maybe' }, r)).rejects.toThrow("lineinfile: create: must be of type boolean");
  });

  it('a mode given as a YAML number stays a number for the module to read, as at run time', async () => {
    const r = new FakeRemote().addDir('/srv/data', { mode: '0755' });
    // YAML 1.1's 0644 is the number 420: ajv's type list keeps it a number (coercion would make it "420")
    const res = await runModule(file, { path: '/srv/data', state: 'directory', mode: 420 }, r, { check: true });
    expect(res.args.mode).toBe(420);
    expect(res.plan.changes).toMatchObject([{ kind: 'exec', summary: 'set mode 0644 on /srv/data' }]);
    // YAML 1.2's unquoted 0644 is the number 644: the module's slip check sees it
    await expect(runModule(file, { path: '/srv/data', state: 'directory', mode: 644 }, r)).rejects.toThrow(/did you mean '0644'/);
  });

  it("coercion and defaults are the runtime compiler's", async () => {
    const r = new FakeRemote().onQuery('printf %s 7', { stdout: '7' });
    // a YAML number where text is wanted arrives as the text it spells
    const res = await runModule(ping, { data: 7 }, r);
    expect(res.args).toEqual({ data: '7' });
    expect(res.registered).toEqual({ changed: false, ping: '7' });
    expect((await runModule(stat, { path: '/none' }, r)).args).toEqual({ path: '/none', follow: false, get_checksum: true, checksum_algorithm: 'sha1' });
  });

  it('check mode never calls apply: it reports changed in the registered result, as the engine does', async () => {
    const apply = jest.spyOn(command, 'apply');
    const r = new FakeRemote();
    const res = await runModule(command, { cmd: 'touch /srv/x' }, r, { check: true, diff: true });
    expect(apply).not.toHaveBeenCalled();
    expect(r.mutations).toBe(0);
    expect(res).toMatchObject({ status: 'changed', changed: true, result: undefined, registered: { changed: true } });
    expect(res.changes).toHaveLength(1);

    const svc = jest.spyOn(service, 'apply');
    const h = new FakeHost().onQuery(/^systemctl show /, { stdout: 'LoadState=loaded\nActiveState=inactive\nUnitFileState=enabled\nCanReload=no\n' });
    const ro = readOnly(h);
    const t = await runTask(service, { name: 'nginx', state: 'started' }, ro, { check: true });
    expect(svc).not.toHaveBeenCalled();
    expect(ro.violations).toEqual([]);
    expect(t).toMatchObject({ status: 'changed', changed: true, result: { changed: true } });
  });

  it('a real run: apply runs, and the registered result has what the engine adds (stdout_lines, ansible_facts)', async () => {
    const apply = jest.spyOn(command, 'apply');
    const r = new FakeRemote().onExec(() => true, { stdout: 'a\nb\n' });
    const res = await runModule(command, { cmd: 'printf x' }, r);
    expect(apply).toHaveBeenCalledTimes(1);
    expect(res.registered).toMatchObject({ changed: true, stdout_lines: ['a', 'b'] });
    expect((await runModule(setFact, { primary: 'db1' }, r)).registered).toEqual({ changed: false, ansible_facts: { primary: 'db1' } });
  });

  it('refuses a module object that is not the one the engine would run', async () => {
    const imposter = { ...ping, schema: { type: 'object', properties: {} } };
    await expect(runModule(imposter, {}, new FakeRemote())).rejects.toThrow('ping: not the module registered under that name');
  });
});
