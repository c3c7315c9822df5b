import { applySymbolic, attrChange, attrCommand, attrDrift, modeArg, resolveMode } from '../../../modules/lib/attrs';
import type { FileStat } from '../../../runner/module-api';

describe('modeArg', () => {
  // Numbers are what the YAML 1.1 loader gives: an unquoted 0644 is the octal number 0o644 (420),
  // an unquoted 644 is the decimal number 644 (octal 01204), which Ansible would silently set.
  it.each([
    ['unquoted 0644', 0o644, '0644'],
    ['unquoted 0755', 0o755, '0755'],
    ['unquoted 0640', 0o640, '0640'],
    ['unquoted 0600', 0o600, '0600'],
    ['unquoted 0440', 0o440, '0440'],
    ['unquoted 0500', 0o500, '0500'],
    ['unquoted 0777', 0o777, '0777'],
    ['unquoted 0771', 0o771, '0771'],
    ['unquoted 0705 (not common, plausible)', 0o705, '0705'],
    ['unquoted 0604', 0o604, '0604'],
    ['unquoted 01777', 0o1777, '1777'],
    ['unquoted 02775', 0o2775, '2775'],
    ['unquoted 04755', 0o4755, '4755'],
    ['unquoted 0', 0, '0000'],
  ])('%s is taken as the mode it is', (_what, v, want) => {
    expect(modeArg(v)).toBe(want);
  });

  it.each([
    [644, '0644'],
    [755, '0755'],
    [600, '0600'],
    [640, '0640'],
    [750, '0750'],
    [700, '0700'],
    [400, '0400'],
    [440, '0440'],
    [664, '0664'],
    [775, '0775'],
    [1777, '1777'],
    [2775, '2775'],
    [4755, '4755'],
  ])('unquoted %d (a decimal number) is an error with the quoted form: %s', (v, want) => {
    expect(() => modeArg(v)).toThrow(new RegExp(`^mode ${v} is read by YAML as the decimal number ${v} \\(octal \\d+\\): did you mean '${want}'\\? Quote it: mode: '${want}'$`));
  });

  it.each([
    [17777, /larger than any permission/],
    [689, /unusual permission 1261; if that is meant, write it quoted: mode: '1261'/],
    [7, /unusual permission 0007/],
    [-1, /is not a permission/],
    [6.5, /is not a permission/],
  ])('refuses %d, which is no plausible mode', (v, re) => {
    expect(() => modeArg(v)).toThrow(re);
  });

  it.each([
    ['644', '0644'],
    ['0640', '0640'],
    ['1777', '1777'],
    ['0o644', '0644'],
    ['0O750', '0750'],
    ['0o2775', '2775'],
    [' 0600 ', '0600'],
    ['u=rw,g=r,o=', 'u=rw,g=r,o='],
  ])('string %j is %j (octal digits as written, or symbolic)', (v, want) => {
    expect(modeArg(v)).toBe(want);
  });

  it('keeps undefined, refuses a bad symbolic mode', () => {
    expect(modeArg(undefined)).toBeUndefined();
    expect(() => modeArg('u+q')).toThrow(/bad symbolic mode/);
    expect(() => modeArg('0o9')).toThrow(/bad symbolic mode/);
  });
});

describe('symbolic modes, as chmod computes them', () => {
  it.each([
    ['u+x', 0o644, false, 0o744],
    ['g-r,o-r', 0o644, false, 0o600],
    ['a=r', 0o777, false, 0o444],
    ['=rw', 0o000, false, 0o666],
    ['u=rwX,g=rX,o=', 0o644, false, 0o640],
    ['u=rwX,g=rX,o=', 0o644, true, 0o750],
    ['u=rwX,g=rX,o=', 0o744, false, 0o750],
    ['g=u', 0o640, false, 0o660],
    ['g+s', 0o755, true, 0o2755],
    ['+t', 0o777, true, 0o1777],
    ['u+s,u-x', 0o755, false, 0o4655],
    ['go=', 0o2755, true, 0o0700],
  ])('%s on %o (dir %s) -> %o', (mode, cur, dir, want) => {
    expect(applySymbolic(mode, cur, dir)).toBe(want);
  });

  it('resolveMode: octal as is; symbolic from the current mode or the usual default', () => {
    expect(resolveMode('0640', '0777', false)).toBe('0640');
    expect(resolveMode('o-rwx', '0775', true)).toBe('0770');
    expect(resolveMode('o-rwx', undefined, false)).toBe('0640');
    expect(resolveMode('o-rwx', undefined, true)).toBe('0750');
  });
});

describe('drift and the command fixing it', () => {
  const st: FileStat = { path: '/x', exists: true, type: 'file', mode: '0644', owner: 'root', group: 'root', uid: 0, gid: 0 };

  it('only the drifted attributes, numeric ids compared as ids', () => {
    expect(attrDrift(st, { owner: 'root', group: '0', mode: '0644' })).toEqual({});
    expect(attrDrift(st, { owner: '1000', mode: 'u=rw,go=r' })).toEqual({ owner: ['root', '1000'] });
    expect(attrDrift(st, { group: 'app', mode: '0600' })).toEqual({ group: ['root', 'app'], mode: ['0644', '0600'] });
  });

  it('links: mode is never "fixed", chown uses -h', () => {
    const link: FileStat = { ...st, type: 'link', mode: '0777' };
    expect(attrDrift(link, { mode: '0644' })).toEqual({});
    expect(attrChange('/x', link, { owner: 'app', mode: '0600' })).toMatchObject({ command: 'chown -h -- app /x' });
  });

  it('commands: -- before names, 5-digit chmod, hostile names quoted', () => {
    expect(attrCommand("/a b/it's", { owner: ['r', '-R'], group: ['r', 'g g'], mode: ['0644', '0600'] })).toBe(
      `chown -- -R:'g g' '/a b/it'\\''s' && chmod -- 00600 '/a b/it'\\''s'`,
    );
    expect(attrCommand('/x', { group: ['r', 'app'] })).toBe('chgrp -- app /x');
  });

  it('attrChange: null without drift; a diff of the attributes with it', () => {
    expect(attrChange('/x', st, { owner: 'root' })).toBeNull();
    expect(attrChange('/x', st, { owner: 'app', mode: '0600' })).toEqual({
      kind: 'exec',
      summary: 'set owner app, mode 0600 on /x',
      command: 'chown -- app /x && chmod -- 00600 /x',
      diff: { path: '/x', before: 'owner: root\nmode: 0644\n', after: 'owner: app\nmode: 0600\n' },
    });
  });
});
