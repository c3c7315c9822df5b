/**
 * Random mutations of valid vault text (fixed seed): decrypt must either return the original
 * plaintext (a harmless change such as hex case or whitespace) or throw a VaultError; never
 * another exception, never different plaintext (the HMAC guarantees it).
 */

import { VaultError } from '../../../runner/errors';
import { secrets } from '../../../runner/secrets';
import { Vault } from '../../../runner/vault';
import { rng } from './helpers';

jest.setTimeout(120_000);

const CASES = 2000;

it(`decrypt of ${CASES} mutated vault texts throws only VaultError`, () => {
  const rand = rng(0x5eed1234);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const int = (n: number): number => Math.floor(rand() * n);
  const v = new Vault([{ password: 'fuzz-pass' }, { id: 'prod', password: 'prod-pass' }]);
  const plaintexts = ['a', 'secret value', 'x'.repeat(47), 'k: v\nlist: [1, 2]\n', 'ünï ✓'];
  const originals = plaintexts.map((p, i) => ({ p, ct: v.encrypt(p, i % 2 ? 'prod' : undefined) }));
  const alphabet = '0123456789abcdefABCDEF;$\n\r \tzZ!\u00e9\u0000';

  const mutate = (s: string): string => {
    const rounds = 1 + int(3);
    for (let r = 0; r < rounds; r++) {
      const at = int(s.length + 1);
      switch (int(9)) {
        case 0: s = s.slice(0, at) + pick([...alphabet]) + s.slice(at + 1); break;            // replace a char
        case 1: s = s.slice(0, at) + s.slice(at + 1 + int(8)); break;                        // delete a run
        case 2: s = s.slice(0, at) + pick([...alphabet]) + s.slice(at); break;               // insert a char
        case 3: s = s.slice(0, at); break;                                                   // truncate
        case 4: { const lines = s.split('\n'); const i = int(lines.length); const j = int(lines.length); [lines[i], lines[j]] = [lines[j], lines[i]]; s = lines.join('\n'); break; }
        case 5: { const h = s.split('\n'); h[0] = pick(['$ANSIBLE_VAULT;1.1;AES256', '$ANSIBLE_VAULT;1.2;AES256;prod', '$ANSIBLE_VAULT;1.2;AES256;', '$ANSIBLE_VAULT;;', '$ANSIBLE_VAULT;1.1;AES256;a;b', '$ANSIBLE_VAULT;9;AES256']); s = h.join('\n'); break; }
        case 6: { const hex = '0123456789abcdef'; let out = ''; for (const c of s) out += /[0-9a-f]/.test(c) && rand() < 0.01 ? pick([...hex]) : c; s = out; break; } // flip hex digits
        case 7: s = s.slice(0, at) + s.slice(at).replace(/[0-9a-f]{2}/, (m) => (parseInt(m, 16) ^ (1 << int(8))).toString(16).padStart(2, '0')); break; // a bit flip in the outer hex
        default: s = s + pick(['\n', '00', '0a', 'ff', ' ', '\n\n6162']); break;               // trailing junk
      }
    }
    return s;
  };

  const seen = { ok: 0, vaultError: 0 };
  for (let i = 0; i < CASES; i++) {
    const o = originals[i % originals.length];
    const text = mutate(o.ct);
    try {
      const out = v.decrypt(text, { file: `case-${i}.yml` });
      expect(out).toBe(o.p);
      seen.ok++;
    } catch (e) {
      if (!(e instanceof VaultError)) {
        throw new Error(`case ${i}: ${String((e as Error)?.stack ?? e)}\ninput: ${JSON.stringify(text)}`);
      }
      expect(e.message.length).toBeGreaterThan(0);
      seen.vaultError++;
    }
  }
  // the mutations must actually exercise the error paths, and some must be harmless
  expect(seen.vaultError).toBeGreaterThan(CASES / 2);
  expect(seen.ok + seen.vaultError).toBe(CASES);
  secrets.clear();
});
