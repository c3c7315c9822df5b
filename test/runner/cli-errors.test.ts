/**
 * Issue 12: the CLI's top-level catch prints an internal error (anything that is not a
 * TsplayError) without a stack trace unless -vvv, and masks secrets in it.
 */
import fs from 'fs';
import { main } from '../../runner/cli';
import { err } from '../../runner/output/terminal';
import { MASK, secrets } from '../../runner/secrets';

jest.mock('../../runner/output/terminal', () => ({ ...jest.requireActual('../../runner/output/terminal'), err: jest.fn(), out: jest.fn() }));

let exitCode: number | undefined;
beforeEach(() => {
  exitCode = undefined;
  jest.spyOn(process, 'exit').mockImplementation(((code?: number) => {
    exitCode = code;
  }) as never);
  // main exits in the callback of a last (empty) stdout write
  jest.spyOn(process.stdout, 'write').mockImplementation(((_chunk: unknown, cb?: unknown) => {
    if (typeof cb === 'function') cb();
    return true;
  }) as never);
  // a bug deep inside: a plain Error where the CLI looks for the inventory
  jest.spyOn(fs, 'existsSync').mockImplementation(() => {
    throw new Error('boom with Sekr1t-pw-4411 inside');
  });
  (err as jest.Mock).mockClear();
  secrets.clear();
  secrets.add('Sekr1t-pw-4411');
});
afterEach(() => jest.restoreAllMocks());

async function printed(argv: string[]): Promise<string> {
  await main(argv);
  await new Promise((r) => setImmediate(r));
  return (err as jest.Mock).mock.calls.map((c) => String(c[0])).join('');
}

test.each([[[]], [['-v']], [['-vv']]])('no stack trace at %j', async (verbosity) => {
  const text = await printed(['run', 'site.yml', '-i', 'hosts', ...verbosity]);
  expect(text).toBe(`INTERNAL ERROR (a bug in tsplay; please report it): boom with ${MASK} inside (run with -vvv for the stack trace)\n`);
  expect(exitCode).toBe(1);
});

test.each([[['-vvv']], [['-v', '-vv']], [['-vvvv']]])('the stack trace at %j, masked', async (verbosity) => {
  const text = await printed(['run', 'site.yml', '-i', 'hosts', ...verbosity]);
  expect(text).toMatch(/^INTERNAL ERROR \(a bug in tsplay; please report it\): Error: boom with \*{8} inside\n\s+at /);
  expect(text).not.toContain('Sekr1t');
  expect(exitCode).toBe(1);
});
