import debug from '../../modules/debug';
import { FakeRemote, runModule, validateArgs } from '../helpers/fake-remote';

describe('debug', () => {
  it('msg: shown, never a change, no host access', async () => {
    const r = new FakeRemote();
    const res = await runModule(debug, { msg: 'hello' }, r);
    expect(res).toMatchObject({ changed: false, plan: { msg: 'hello', result: { msg: 'hello' } } });
    expect(r.roundTrips).toBe(0);
    expect((await runModule(debug, {}, r)).plan.msg).toBe('Hello world!');
    expect((await runModule(debug, { msg: { a: [1] } }, r)).plan).toMatchObject({ msg: '{\n  "a": [\n    1\n  ]\n}', result: { msg: { a: [1] } } });
  });

  it('var: evaluated, keyed by its expression; undefined is shown, not fatal', async () => {
    const r = new FakeRemote();
    const vars = { res: { stdout_lines: ['a', 'b'] } };
    const res = await runModule(debug, { var: 'res.stdout_lines' }, r, { vars });
    expect(res.plan.result).toEqual({ 'res.stdout_lines': ['a', 'b'] });
    const und = await runModule(debug, { var: 'nope' }, r, { vars });
    expect(und.plan.result).toEqual({ nope: 'VARIABLE IS NOT DEFINED!' });
  });

  it('verbosity: skipped below the level', async () => {
    const r = new FakeRemote();
    expect((await runModule(debug, { msg: 'x', verbosity: 1 }, r)).plan).toMatchObject({ skipped: true, msg: 'verbosity threshold not met' });
    expect((await runModule(debug, { msg: 'x', verbosity: 1 }, r, { vars: { ansible_verbosity: 1 } })).plan.msg).toBe('x');
  });

  it('is local and keeps var raw', () => {
    expect(debug.local).toBe(true);
    expect(debug.rawArgs).toEqual(['var']);
  });

  it('bad arguments', () => {
    expect(validateArgs(debug, { msg: 'a', var: 'b' }).valid).toBe(false);
    expect(validateArgs(debug, { verbosity: -1 }).valid).toBe(false);
    expect(validateArgs(debug, { var: ['a'] }).valid).toBe(false);
    // a YAML number where text is wanted is the text it spells, as the engine's ajv coerces it
    expect(validateArgs(debug, { var: 3 }).args.var).toBe('3');
    expect(validateArgs(debug, { message: 'x' }).valid).toBe(false);
  });

  it('check mode: the same, nothing mutates', async () => {
    const r = new FakeRemote();
    expect((await runModule(debug, { msg: 'm' }, r, { check: true })).plan.msg).toBe('m');
    expect(r.roundTrips).toBe(0);
  });
});
