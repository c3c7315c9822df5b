import assertModule from '../../modules/assert';
import { FakeRemote, runModule, validateArgs } from '../helpers/fake-remote';

describe('assert', () => {
  const vars = { n: 3, name: 'db1', list: [1] };

  it('all conditions hold: ok with success_msg, no host access', async () => {
    const r = new FakeRemote();
    const res = await runModule(assertModule, { that: ['n == 3', 'name is defined', true], success_msg: 'fine' }, r, { vars });
    expect(res).toMatchObject({ changed: false, plan: { msg: 'fine' } });
    expect(r.roundTrips).toBe(0);
    expect((await runModule(assertModule, { that: 'n > 2' }, r, { vars })).plan.msg).toBe('All assertions passed');
    expect((await runModule(assertModule, { that: 'n > 2', quiet: true }, r, { vars })).plan.msg).toBeUndefined();
  });

  it('the first false condition fails the task, named in the result', async () => {
    const r = new FakeRemote();
    await expect(runModule(assertModule, { that: ['n == 3', 'n == 4', 'x is defined'] }, r, { vars })).rejects.toMatchObject({
      message: 'Assertion failed: n == 4',
      result: { assertion: 'n == 4', evaluated_to: false },
    });
    await expect(runModule(assertModule, { that: 'n == 4', fail_msg: 'need 4' }, r, { vars })).rejects.toThrow('need 4');
    await expect(runModule(assertModule, { that: 'n == 4', msg: 'alias' }, r, { vars })).rejects.toThrow('alias');
  });

  it('`that` is raw: the engine must not template it', () => {
    expect(assertModule.rawArgs).toEqual(['that']);
    expect(assertModule.local).toBe(true);
  });

  it('bad arguments', () => {
    expect(validateArgs(assertModule, {}).valid).toBe(false);
    expect(validateArgs(assertModule, { that: [] }).valid).toBe(false);
    expect(validateArgs(assertModule, { that: [{ a: 1 }] }).valid).toBe(false);
    expect(validateArgs(assertModule, { that: 'x', fail_msg: { a: 1 } }).valid).toBe(false);
    // a YAML number where text is wanted is the text it spells, as the engine's ajv coerces it
    expect(validateArgs(assertModule, { that: 'x', fail_msg: 1 }).args.fail_msg).toBe('1');
  });

  it('check mode: still a check (fails), nothing mutates', async () => {
    const r = new FakeRemote();
    await expect(runModule(assertModule, { that: 'n == 1' }, r, { vars, check: true })).rejects.toThrow('Assertion failed');
    expect(r.roundTrips).toBe(0);
  });
});
