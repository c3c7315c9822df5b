import { accountNameProblem, ACCOUNT_ID_PATTERN, ACCOUNT_NAME_PATTERN, checkBecomeUser } from '../../runner/names';
import { TsplayError } from '../../runner/errors';

describe('account names: the one rule for become_user, owner, group, user and group names', () => {
  it.each(['root', 'postgres', 'motadata', '_apt', 'systemd-network', 'www-data', 'john.doe', 'Admin', 'host01$', 'a', 'x'.repeat(32)])(
    '%j is a name',
    (n) => {
      expect(accountNameProblem(n)).toBeUndefined();
      expect(new RegExp(ACCOUNT_NAME_PATTERN).test(n)).toBe(true);
    },
  );

  it.each([
    ['--command=touch /x', /starts with "-", so a program would read it as an option/],
    ['-', /starts with "-"/],
    ['-l', /starts with "-"/],
    ['root -c id', /characters a user or group name cannot have/],
    ['root:root', /cannot have/],
    ['a,b', /cannot have/],
    ['a\nb', /cannot have/],
    ['a/b', /cannot have/],
    ['$(id)', /cannot have/],
    ['1000', /is a number; su and sudo take a user name here/],
    ['9lives', /cannot have/],
    ['', /must not be empty/],
    ['x'.repeat(33), /longer than 32 characters/],
  ])('%j is not a name', (n, re) => {
    expect(accountNameProblem(n)).toMatch(re);
  });

  it('owner/group may also be a numeric id, still never an option', () => {
    expect(accountNameProblem('1000', { numeric: true })).toBeUndefined();
    expect(new RegExp(ACCOUNT_ID_PATTERN).test('0')).toBe(true);
    expect(new RegExp(ACCOUNT_ID_PATTERN).test('-1')).toBe(false);
    expect(new RegExp(ACCOUNT_ID_PATTERN).test('--from=root')).toBe(false);
    expect(accountNameProblem('99999999999', { numeric: true })).toMatch(/too large for a uid\/gid/);
  });

  it('checkBecomeUser: a TsplayError naming become_user and the task; a 200 kB value is cut short in the message', () => {
    expect(checkBecomeUser('postgres')).toBe('postgres');
    const loc = { file: 'site.yml', line: 7, column: 7 };
    let e: unknown;
    try {
      checkBecomeUser('a'.repeat(200_000), loc);
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(TsplayError);
    const err = e as TsplayError;
    expect(err.location).toEqual(loc);
    expect(err.describe()).toMatch(/^site\.yml:7:7: become_user "a{40}"\.\.\. \(200000 characters\) is longer than 32 characters$/);
    expect(err.describe().length).toBeLessThan(200);
  });
});
