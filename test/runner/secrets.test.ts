/**
 * Issue 12: the masker masks every form output can carry a secret in, not only the raw one.
 */
import { encodings, MASK, SecretRegistry } from '../../runner/secrets';
import { quote } from '../../runner/shell-quote';

/** Secrets with the characters each encoding changes. */
const HOSTILE = [`it's-a"secret\\pw`, `p@ss w0rd/&?=+%`, `ünï$(x)\`y\`-pw`, `tab\there-and'quote`];

const FORMS: Array<[string, (s: string) => string]> = [
  ['raw', (s) => `pw=${s};`],
  ['JSON-escaped', (s) => JSON.stringify({ cmd: `echo ${s}` })],
  ['JSON in JSON', (s) => JSON.stringify({ stdout: JSON.stringify({ pw: s }) })],
  ['shell-quoted', (s) => `mysql -p ${quote(s)} -e select`],
  ['inside a longer quoted word', (s) => `cmd ${quote(`--password=${s} --x`)}`],
  ['shell-quoted in JSON', (s) => JSON.stringify({ cmd: `echo ${quote(s)}` })],
  ['double-quoted shell', (s) => `echo "${s.replace(/["\\$`]/g, '\\$&')}"`],
  ['backslash-escaped', (s) => `echo ${s.replace(/[^A-Za-z0-9_@%+=:,./-]/g, '\\$&')}`],
  ['URL-encoded', (s) => `https://u:${encodeURIComponent(s)}@db.example/`],
  ['URL-encoded, lower-case hex', (s) => `?p=${encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`],
  ['form-encoded', (s) => new URLSearchParams({ a: 'b', pw: s }).toString()],
  ['base64 of the value', (s) => `Basic ${Buffer.from(s).toString('base64')}`],
  ['base64url without padding', (s) => Buffer.from(s).toString('base64url')],
];

describe('mask: every encoding of a secret', () => {
  const cases = HOSTILE.flatMap((secret) => FORMS.map(([name, f]) => [name, secret, f] as const));
  it.each(cases)('%s of %j', (_name, secret, f) => {
    const r = new SecretRegistry();
    r.add(secret);
    const text = f(secret);
    const masked = r.mask(text);
    expect(masked).toContain(MASK);
    for (const form of encodings(secret)) expect(masked).not.toContain(form);
    expect(masked).not.toContain(secret);
  });

  it.each([0, 1, 2])('base64 of the secret inside a longer text, at offset %d mod 3', (offset) => {
    const secret = 'Corr3ct-H0rse-Battery';
    const r = new SecretRegistry();
    r.add(secret);
    const text = Buffer.from(`${'x'.repeat(offset)}user:${secret}:tail`).toString('base64');
    const masked = r.mask(text);
    expect(masked).toContain(MASK);
    // what is left is at most the two groups that straddle the secret's ends
    const left = masked.split(MASK).join('');
    expect(left.length).toBeLessThanOrEqual(text.length - Math.floor(((secret.length - 4) * 4) / 3));
  });

  it('leaves harmless text alone and short encoded fragments unmasked', () => {
    const r = new SecretRegistry();
    r.add('abcd');
    // base64 of 'abcd' is 8 characters: masked; no 4-character fragment is
    expect(r.mask('YWJjZA==')).toBe(MASK);
    expect(r.mask('YWJj and more')).toBe('YWJj and more');
    expect(r.mask('nothing here')).toBe('nothing here');
  });

  it('has() still answers for the registered value only', () => {
    const r = new SecretRegistry();
    r.add(`it's`);
    expect(r.has(`it's`)).toBe(true);
    expect(r.has(`it'\\''s`)).toBe(false);
    r.clear();
    expect(r.mask(`it'\\''s`)).toBe(`it'\\''s`);
  });

  it('a NUL byte in a secret does not break registration', () => {
    const r = new SecretRegistry();
    r.add('nul\0inside');
    expect(r.mask('x nul\0inside y')).toBe(`x ${MASK} y`);
    expect(r.mask(JSON.stringify('nul\0inside'))).toBe(`"${MASK}"`);
  });
});
