import { applySymbolic, attrChange, attrCommand, attrDrift, modeArg, resolveMode } from '../../../modules/lib/attrs';
import type { FileStat } from '../../../runner/module-api';

describe('modeArg', () => {
  it('reads YAML 1.2 integers as the octal digits typed', () => {
    expect(modeArg(644)).toBe('0644');
    expect(modeArg(755)).toBe('0755');
    expect(modeArg(2775)).toBe('2775');
    expect(modeArg(0)).toBe('0000');
  });
  it('pads octal strings, keeps symbolic ones', () => {
    expect(modeArg('644')).toBe('0644');
    expect(modeArg('0640')).toBe('0640');
    expect(modeArg('u=rw,g=r,o=')).toBe('u=rw,g=r,o=');
    expect(modeArg(undefined)).toBeUndefined();
  });
  it('refuses what cannot be a mode', () => {
    expect(() => modeArg(17777)).toThrow(/not an octal permission/);
    expect(() => modeArg(689)).toThrow(/not an octal permission/);
    expect(() => modeArg('u+q')).toThrow(/bad symbolic mode/);
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
