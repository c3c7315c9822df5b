import pause from '../../modules/pause';
import { FakeRemote, runModule, validateArgs } from '../helpers/fake-remote';

describe('pause', () => {
  it('waits the given time on the controller, no host access, never a change (check mode too)', async () => {
    const r = new FakeRemote();
    const t0 = Date.now();
    const res = await runModule(pause, { seconds: 0.2, prompt: 'ignored' }, r, { check: true });
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(2000);
    expect(res.changed).toBe(false);
    expect(res.plan.result).toMatchObject({ user_input: '' });
    expect(r.roundTrips).toBe(0);
  });

  it('without a duration it does not prompt: it continues at once and says so', async () => {
    const res = await runModule(pause, { prompt: 'press enter' }, new FakeRemote());
    expect(res.plan.msg).toMatch(/does not prompt/);
  });

  it('Ctrl-C (the abort signal) ends a long wait at once', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 50);
    await expect(runModule(pause, { minutes: 10 }, new FakeRemote(), { signal: ac.signal })).rejects.toThrow('pause interrupted');
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('bad arguments', () => {
    expect(validateArgs(pause, { seconds: -1 }).valid).toBe(false);
    expect(validateArgs(pause, { seconds: 'ten' }).valid).toBe(false);
    expect(validateArgs(pause, { hours: 1 }).valid).toBe(false);
  });
});
