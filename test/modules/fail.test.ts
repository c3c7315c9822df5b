import failModule from '../../modules/fail';
import { FakeRemote, runModule, validateArgs } from '../helpers/fake-remote';

describe('fail', () => {
  it('fails with the message (default or given), never touching the host, also in check mode', async () => {
    const r = new FakeRemote();
    await expect(runModule(failModule, {}, r)).rejects.toMatchObject({ name: 'ModuleFailure', message: 'Failed as requested from task' });
    await expect(runModule(failModule, { msg: 'unsupported OS' }, r, { check: true })).rejects.toThrow('unsupported OS');
    expect(r.roundTrips).toBe(0);
  });

  it('there is no no-change case other than not running it (when: false is the engine): plan always throws', async () => {
    await expect(failModule.plan({ msg: 'x' }, {} as never)).rejects.toThrow('x');
  });

  it('bad arguments', () => {
    expect(validateArgs(failModule, { msg: ['a'] }).valid).toBe(false);
    expect(validateArgs(failModule, { message: 'a' }).valid).toBe(false);
  });
});
