import setFact from '../../modules/set_fact';
import { FakeRemote, runModule, validateArgs } from '../helpers/fake-remote';

describe('set_fact', () => {
  it('sets facts (cacheable dropped), never a change, no host access, also in check mode', async () => {
    const r = new FakeRemote();
    const res = await runModule(setFact, { primary: 'db1', ports: [1, 2], cacheable: true }, r);
    expect(res.changed).toBe(false);
    expect(res.plan.facts).toEqual({ primary: 'db1', ports: [1, 2] });
    expect(res.plan.result).toEqual({ ansible_facts: { primary: 'db1', ports: [1, 2] } });
    const chk = await runModule(setFact, { x: 1 }, r, { check: true });
    expect(chk.plan.facts).toEqual({ x: 1 });
    expect(r.roundTrips).toBe(0);
  });

  it('bad arguments: nothing to set, names that are not variable names', () => {
    expect(validateArgs(setFact, {}).valid).toBe(false);
    expect(validateArgs(setFact, { 'not-a-name': 1 }).valid).toBe(false);
    expect(validateArgs(setFact, { '1x': 1 }).valid).toBe(false);
    expect(validateArgs(setFact, { cacheable: 'maybe', a: 1 }).valid).toBe(false);
    // Ansible's boolean words are booleans, as the engine's registry normalises them
    expect(validateArgs(setFact, { cacheable: 'yes', a: 1 }).args.cacheable).toBe(true);
    expect(validateArgs(setFact, { _ok: null }).valid).toBe(true);
  });
});
