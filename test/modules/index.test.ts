import { getModule, MODULES } from '../../modules/index';

const ENGINE = ['command', 'shell', 'copy', 'file', 'template', 'lineinfile', 'stat', 'debug', 'assert', 'fail', 'set_fact', 'include_vars', 'pause', 'wait_for', 'ping', 'setup'];

describe('module registry', () => {
  it('getModule finds modules with or without the ansible.builtin./ansible.legacy. prefix', () => {
    expect(getModule('copy')?.name).toBe('copy');
    expect(getModule('ansible.builtin.lineinfile')?.name).toBe('lineinfile');
    expect(getModule('ansible.legacy.shell')?.name).toBe('shell');
    expect(getModule('community.general.copy')).toBeUndefined();
    expect(getModule('nope')).toBeUndefined();
  });

  it('names are unique', () => {
    const names = MODULES.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('every engine module is registered', () => {
    for (const n of ENGINE) expect(getModule(n)).toBeDefined();
  });
});
