import ping from '../../modules/ping';
import { FakeRemote, LocalRemote, runModule, validateArgs } from '../helpers/fake-remote';

describe('ping', () => {
  it('one trivial query; ping: pong; never a change', async () => {
    const r = new FakeRemote().onQuery('printf %s pong', { stdout: 'pong' });
    const res = await runModule(ping, {}, r);
    expect(res.changed).toBe(false);
    expect(res.plan.result).toEqual({ ping: 'pong' });
    expect(r.roundTrips).toBe(1);
  });

  it('a host that does not echo back fails', async () => {
    const r = new FakeRemote().onQuery(() => true, { rc: 127, stderr: 'sh: printf: not found' });
    await expect(runModule(ping, {}, r)).rejects.toThrow('ping failed: rc=127 sh: printf: not found');
  });

  it('data=crash fails without touching the host', async () => {
    const r = new FakeRemote();
    await expect(runModule(ping, { data: 'crash' }, r)).rejects.toThrow(/boom/);
    expect(r.roundTrips).toBe(0);
  });

  it('bad arguments', () => {
    expect(validateArgs(ping, { data: { a: 1 } }).valid).toBe(false);
    // a YAML number where text is wanted is the text it spells, as the engine's ajv coerces it
    expect(validateArgs(ping, { data: 1 }).args.data).toBe('1');
    expect(validateArgs(ping, { dta: 'x' }).valid).toBe(false);
  });

  it('check mode: same as a normal run, nothing mutates', async () => {
    const r = new FakeRemote().onQuery(() => true, { stdout: 'pong' });
    expect((await runModule(ping, {}, r, { check: true })).plan.result).toEqual({ ping: 'pong' });
    expect(r.mutations).toBe(0);
  });

  it('hostile data goes through a real shell unchanged', async () => {
    const data = "-n 'q' \"d\" $(id) `id` \\n\nü";
    const res = await runModule(ping, { data }, new LocalRemote());
    expect(res.plan.result).toEqual({ ping: data });
  });
});
