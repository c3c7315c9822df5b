import localeGen, { editLocaleGen, normaliseLocale } from '../../modules/locale_gen';
import { getModule } from '../../modules/index';
import { FakeRemote, runModule, validateArgs } from '../helpers/fake-remote';

const GEN = '# This file lists locales\n# de_DE.UTF-8 UTF-8\nen_US.UTF-8 UTF-8\n#  fr_FR.UTF-8 UTF-8\n';
const SUP = 'de_DE.UTF-8 UTF-8\nen_US.UTF-8 UTF-8\nfr_FR.UTF-8 UTF-8\nnl_NL.UTF-8 UTF-8\n';

describe('editLocaleGen (pure)', () => {
  it.each([
    ['uncomments', 'de_DE.UTF-8', 'present', GEN.replace('# de_DE', 'de_DE')],
    ['uncomments with several blanks', 'fr_FR.UTF-8', 'present', GEN.replace('#  fr_FR', 'fr_FR')],
    ['comments out', 'en_US.UTF-8', 'absent', GEN.replace('en_US', '# en_US')],
    ['appends the SUPPORTED line when the file has none', 'nl_NL.UTF-8', 'present', GEN + 'nl_NL.UTF-8 UTF-8\n'],
  ] as const)('%s', (_n, name, state, want) => {
    expect(editLocaleGen(GEN, name, state, `${name} UTF-8`)).toEqual({ text: want, changed: true });
    expect(editLocaleGen(want, name, state, `${name} UTF-8`).changed).toBe(false);
  });
  it('the comment line of the header is not a locale; spellings normalise', () => {
    expect(editLocaleGen(GEN, 'This', 'absent').changed).toBe(false);
    expect(normaliseLocale('en_US.UTF-8')).toBe(normaliseLocale('en_US.utf8'));
    expect(normaliseLocale('sr_RS.UTF-8@latin')).toBe('sr_RS.utf8@latin');
  });
});

describe('locale_gen module', () => {
  const host = (): FakeRemote =>
    new FakeRemote().addDir('/etc').addFile('/etc/locale.gen', GEN).addDir('/usr').addFile('/usr/share/i18n/SUPPORTED', SUP).onQuery('locale -a', { stdout: 'C\nC.utf8\nPOSIX\nen_US.utf8\n' });

  it('no change: locale -a lists it; nothing read, nothing run', async () => {
    const r = host();
    expect((await runModule(localeGen, { name: 'en_US.UTF-8' }, r)).changed).toBe(false);
    expect(r.roundTrips).toBe(1);
    expect((await runModule(localeGen, { name: 'C.UTF-8', state: 'absent' }, r)).changed).toBe(false);
  });

  it('drift: the locale.gen edit, then one locale-gen', async () => {
    const r = host().onExec(() => true, {});
    await runModule(localeGen, { name: ['de_DE.UTF-8', 'fr_FR.UTF-8'] }, r);
    expect(r.content('/etc/locale.gen')).toBe('# This file lists locales\nde_DE.UTF-8 UTF-8\nen_US.UTF-8 UTF-8\nfr_FR.UTF-8 UTF-8\n');
    expect(r.execs).toEqual(['locale-gen']);
  });

  it('an unsupported locale fails before anything changes; bad arguments', async () => {
    const r = host();
    await expect(runModule(localeGen, { name: 'xx_YY.UTF-8' }, r)).rejects.toThrow('locale xx_YY.UTF-8 is not available on the host');
    expect(r.mutations).toBe(0);
    expect(validateArgs(localeGen, { name: '--purge' }).valid).toBe(false);
    expect(validateArgs(localeGen, { name: 'en_US.UTF-8 x' }).valid).toBe(false);
    expect(validateArgs(localeGen, {}).valid).toBe(false);
    expect(getModule('community.general.locale_gen')).toBe(localeGen);
  });

  it('check mode: planned, nothing mutates', async () => {
    const r = host();
    const res = await runModule(localeGen, { name: 'en_US.UTF-8', state: 'absent' }, r, { check: true });
    expect(res.plan.changes.map((c) => c.kind)).toEqual(['write', 'exec']);
    expect(r.mutations).toBe(0);
  });
});
