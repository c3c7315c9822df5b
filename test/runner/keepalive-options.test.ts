/**
 * Issue 12: keepalive interval and count come from the command line (--keepalive-interval,
 * --keepalive-count) and host variables, and ports and keepalive values are checked, naming the
 * host, where the connection spec is built (templated values could not be checked at load).
 */
import { parseArgs } from '../../runner/cli';
import { TsplayError, UsageError } from '../../runner/errors';
import { checkInventoryVar, sshSettings } from '../../runner/inventory/connection-vars';
import { secrets } from '../../runner/secrets';
import { runTsplay } from '../helpers/run-tsplay';

describe('--keepalive-interval / --keepalive-count', () => {
  it('default to unset (the connection layer uses 15 s x 3)', () => {
    const p = parseArgs(['site.yml'], 'run');
    expect([p.keepaliveInterval, p.keepaliveCount]).toEqual([undefined, undefined]);
    expect(sshSettings('h', {}, { timeoutMs: 10_000 })).toEqual({ port: 22, keepaliveIntervalMs: 15_000, keepaliveCountMax: 3 });
  });

  it.each([
    [['--keepalive-interval', '2', '--keepalive-count', '5'], 2, 5],
    [['--keepalive-interval=1', '--keepalive-count=1'], 1, 1],
    [['--keepalive-interval', '0'], 0, undefined],
  ])('%j', (argv, interval, count) => {
    const p = parseArgs(['site.yml', ...argv], 'run');
    expect([p.keepaliveInterval, p.keepaliveCount]).toEqual([interval, count]);
  });

  it.each([
    [['--keepalive-interval', 'abc'], "--keepalive-interval expects a whole number >= 0, got 'abc'"],
    [['--keepalive-interval', '-1'], "--keepalive-interval expects a whole number >= 0, got '-1'"],
    [['--keepalive-interval', '1.5'], "--keepalive-interval expects a whole number >= 0, got '1.5'"],
    [['--keepalive-count', '0'], "--keepalive-count expects a whole number >= 1, got '0'"],
    [['--keepalive-count'], 'option --keepalive-count needs a value'],
  ])('%j is a usage error', (argv, message) => {
    let err: unknown;
    try {
      parseArgs(['site.yml', ...argv], 'run');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(message);
  });

  it('are documented in tsplay run --help', () => {
    const r = runTsplay(['run', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--keepalive-interval S +seconds of silence before an SSH keepalive is sent \(default 15; 0: off\)/);
    expect(r.stdout).toMatch(/--keepalive-count N +unanswered keepalives before the host is unreachable \(default 3\)/);
  });

  it('a host variable wins over the command line, as ansible_user wins over -u', () => {
    const cli = { timeoutMs: 10_000, keepaliveIntervalMs: 5_000, keepaliveCountMax: 4 };
    expect(sshSettings('h', {}, cli)).toMatchObject({ keepaliveIntervalMs: 5_000, keepaliveCountMax: 4 });
    expect(sshSettings('h', { tsplay_keepalive_interval: 2, tsplay_keepalive_count: '6' }, cli)).toMatchObject({ keepaliveIntervalMs: 2_000, keepaliveCountMax: 6 });
    expect(sshSettings('h', { ansible_ssh_common_args: '-o ProxyJump=b -o ServerAliveInterval=7 -o ServerAliveCountMax=2' }, cli)).toMatchObject({
      keepaliveIntervalMs: 7_000,
      keepaliveCountMax: 2,
    });
  });
});

describe('ports where the connection spec is built', () => {
  it.each([
    [{ ansible_port: 2222 }, 2222],
    [{ ansible_port: '2222' }, 2222],
    [{ ansible_ssh_port: ' 22 ' }, 22],
    [{ tsplay_port: 65535 }, 65535],
  ])('%j -> %d', (vars, port) => {
    expect(sshSettings('web1', vars, { timeoutMs: 1 }).port).toBe(port);
  });

  it.each([
    [{ ansible_port: 'notaport' }, 'web1: ansible_port must be a whole number, got "notaport"'],
    [{ ansible_port: '2222x' }, 'web1: ansible_port must be a whole number, got "2222x"'],
    [{ ansible_port: 0 }, 'web1: ansible_port must be from 1 to 65535, got 0'],
    [{ ansible_port: '65536' }, 'web1: ansible_port must be from 1 to 65535, got 65536'],
    [{ tsplay_keepalive_count: 0 }, 'web1: tsplay_keepalive_count must be from 1 to 1000, got 0'],
  ])('%j is an error naming the host', (vars, message) => {
    expect(() => sshSettings('web1', vars, { timeoutMs: 1 })).toThrow(new TsplayError(message));
  });
});

describe('inventory variables as read', () => {
  beforeEach(() => secrets.clear());

  it('a templated port is left for the connection; a literal one is checked', () => {
    expect(() => checkInventoryVar('ansible_port', '{{ base + 1 }}', { file: 'hosts' })).not.toThrow();
    expect(() => checkInventoryVar('ansible_port', '22x', { file: 'hosts', line: 3 })).toThrow(/ansible_port must be a whole number/);
  });

  it('passwords are registered with the masker, templates and harmless names are not', () => {
    checkInventoryVar('ansible_become_password', `it's "x"`, undefined);
    checkInventoryVar('ansible_password', 12345678, undefined);
    checkInventoryVar('db_password', 'plain-pw-9', undefined);
    checkInventoryVar('ansible_ssh_pass', '{{ vault_ssh_pass }}', undefined);
    checkInventoryVar('ansible_user', 'deploy', undefined);
    expect([secrets.has(`it's "x"`), secrets.has('12345678'), secrets.has('plain-pw-9')]).toEqual([true, true, true]);
    expect([secrets.has('{{ vault_ssh_pass }}'), secrets.has('deploy')]).toEqual([false, false]);
  });
});
