import { BatchedStdout } from '../../../runner/output/terminal';

describe('BatchedStdout', () => {
  let spy: jest.SpyInstance;
  beforeEach(() => {
    spy = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(() => spy.mockRestore());

  test('what is written in one turn of the event loop goes out as one write, in order', async () => {
    const out = new BatchedStdout();
    for (let i = 0; i < 20; i++) out.write(`ok: [h${i}]\n`);
    expect(spy).not.toHaveBeenCalled();
    await new Promise((r) => setImmediate(r));
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.calls[0][0]).toBe(Array.from({ length: 20 }, (_, i) => `ok: [h${i}]\n`).join(''));
    out.write('next turn\n');
    await new Promise((r) => setImmediate(r));
    expect(spy).toHaveBeenCalledTimes(2);
    expect(spy.mock.calls[1][0]).toBe('next turn\n');
  });

  test('flush writes at once (before an exit) and nothing is written twice', async () => {
    const out = new BatchedStdout();
    out.write('recap\n');
    out.flush();
    expect(spy.mock.calls.map((c) => c[0])).toEqual(['recap\n']);
    await new Promise((r) => setImmediate(r));
    out.flush();
    expect(spy).toHaveBeenCalledTimes(1);
  });
});
