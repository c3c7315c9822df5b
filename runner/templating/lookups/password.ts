/**
 * The password lookup, as ansible-core 2.14's: `lookup('password', 'path length=N chars=...')`
 * gives the password stored in the controller file `path` (relative to the playbook's
 * directory), and first makes one up and stores it there (directories 0700, the file 0600),
 * also under --check, as Ansible does. `/dev/null` stores nothing (a new password each time).
 * Every password it gives is registered as a secret: output shows it masked.
 */

import crypto from 'crypto';
import fs from 'fs';
import path from 'path';
import { TemplateError } from '../../errors';
import { secrets } from '../../secrets';
import { typeName } from '../jinja/values';
import type { LookupDef } from './index';

/** Python's string module constants that `chars` may name. */
const CHAR_SETS: Record<string, string> = {
  ascii_letters: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
  ascii_lowercase: 'abcdefghijklmnopqrstuvwxyz',
  ascii_uppercase: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  digits: '0123456789',
  hexdigits: '0123456789abcdefABCDEF',
  octdigits: '01234567',
  punctuation: '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
};
const DEFAULT_CHARS = ['ascii_letters', 'digits', '.,:-_'];
const DEFAULT_LENGTH = 20;

interface Params {
  file: string;
  length: number;
  chars: string[];
}

/** `path key=value ...`, then the keyword options (which win). */
function parseTerm(term: unknown, kw: Record<string, unknown>): Params {
  if (typeof term !== 'string' || !term.trim()) throw new TemplateError(`a term is 'path [length=N] [chars=...]', got ${typeName(term)}`);
  const [file, ...rest] = term.trim().split(/\s+/);
  const o: Record<string, unknown> = {};
  for (const kv of rest) {
    const i = kv.indexOf('=');
    if (i < 1) throw new TemplateError(`cannot read '${kv}' in '${term}' (write length=N chars=a,b)`);
    o[kv.slice(0, i)] = kv.slice(i + 1);
  }
  Object.assign(o, kw);
  for (const k of Object.keys(o)) {
    if (k === 'encrypt' || k === 'ident' || k === 'seed') throw new TemplateError(`option '${k}' is not supported (store the plain password; hash it with password_hash)`);
    if (k !== 'length' && k !== 'chars') throw new TemplateError(`unknown option '${k}' (length, chars)`);
  }
  const length = o.length === undefined ? DEFAULT_LENGTH : Number(o.length);
  if (!Number.isInteger(length) || length < 1 || length > 4096) throw new TemplateError(`length must be an integer from 1 to 4096, got '${String(o.length)}'`);
  let chars = DEFAULT_CHARS;
  if (Array.isArray(o.chars)) chars = o.chars.map(String);
  else if (typeof o.chars === 'string' && o.chars) {
    // ',,' is a literal comma, as Ansible reads it
    chars = [...(o.chars.includes(',,') ? [','] : []), ...o.chars.replace(/,,/g, ',').split(',').filter(Boolean)];
  }
  return { file, length, chars };
}

function generate(length: number, chars: string[]): string {
  const pool = [...chars.map((c) => CHAR_SETS[c] ?? c).join('')];
  if (!pool.length) throw new TemplateError('chars gives no characters to choose from');
  let out = '';
  for (let i = 0; i < length; i++) out += pool[crypto.randomInt(pool.length)];
  return out;
}

/** The stored password: the file's text without trailing blanks, without a ` salt=...` part. */
function stored(text: string): string {
  const t = text.replace(/\s+$/, '');
  const i = t.lastIndexOf(' salt=');
  return i >= 0 ? t.slice(0, i) : t;
}

function passwordOf(p: Params, baseDir: string): string {
  if (p.file === '/dev/null') return generate(p.length, p.chars);
  const file = path.resolve(baseDir, p.file);
  try {
    return stored(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new TemplateError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const pw = generate(p.length, p.chars);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // 'wx': created here or not at all (never through a symlink planted in its place)
  const fd = fs.openSync(file, 'wx', 0o600);
  try {
    fs.writeSync(fd, `${pw}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return pw;
}

export const PASSWORD_LOOKUP: LookupDef = {
  options: ['length', 'chars', 'encrypt', 'ident', 'seed'],
  run(terms, kw, env) {
    return terms.map((t) => {
      const pw = passwordOf(parseTerm(t, kw), env.baseDir);
      secrets.add(pw);
      return pw;
    });
  },
};
