import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HostKeyError } from '../../../runner/errors';
import {
  appendKnownHost,
  checkHostKey,
  fingerprint,
  hostKeyName,
  keyTypeOf,
  knownKeyTypes,
  parseKnownHosts,
  verifyHostKey,
} from '../../../runner/connection/known-hosts';
import { hostKeyAlgorithms } from '../../../runner/connection/ssh';

let dir: string;
interface Key {
  line: string;
  type: string;
  blob: Buffer;
  file: string;
}
const keys: Record<string, Key> = {};

function gen(name: string, type: string, bits?: string): Key {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', bits] : []), '-N', '', '-f', file], { stdio: 'ignore' });
  const line = fs.readFileSync(`${file}.pub`, 'utf8').trim();
  const [t, b64] = line.split(/\s+/);
  return { line: `${t} ${b64}`, type: t, blob: Buffer.from(b64, 'base64'), file };
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-kh-'));
  keys.ed = gen('ed', 'ed25519');
  keys.ed2 = gen('ed2', 'ed25519');
  keys.rsa = gen('rsa', 'rsa', '2048');
  keys.ec = gen('ec', 'ecdsa', '256');
  keys.rev = gen('rev', 'ed25519');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('fingerprints match ssh-keygen -l, key types are read from the blob', () => {
  for (const k of Object.values(keys)) {
    const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${k.file}.pub`], { encoding: 'utf8' });
    expect(out.split(/\s+/)[1]).toBe(fingerprint(k.blob));
    expect(keyTypeOf(k.blob)).toBe(k.type);
  }
  expect(keys.ec.type).toBe('ecdsa-sha2-nistp256');
});

test('hostKeyName: [host]:port only for ports other than 22', () => {
  expect(hostKeyName('db1', 22)).toBe('db1');
  expect(hostKeyName('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222');
});

describe('parsing and lookup', () => {
  let file: string;
  beforeAll(() => {
    file = path.join(dir, 'kh');
    const hashedSrc = path.join(dir, 'kh-hashed');
    fs.writeFileSync(hashedSrc, `secret.example.org ${keys.rsa.line}\n[secret.example.org]:2200 ${keys.ec.line}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', hashedSrc], { stdio: 'ignore' });
    const hashed = fs.readFileSync(hashedSrc, 'utf8').split('\n').filter((l) => l.startsWith('|1|'));
    expect(hashed).toHaveLength(2);
    fs.writeFileSync(
      file,
      [
        '# comment',
        '',
        `web1,10.0.0.5 ${keys.ed.line} comment here`,
        `[10.0.0.6]:2222 ${keys.ed2.line}`,
        `*.lab.test,!bad.lab.test ${keys.ec.line}`,
        ...hashed,
        `@cert-authority *.example.org ${keys.ed2.line}`,
        `@revoked * ${keys.rev.line}`,
        'garbage line',
        `broken ssh-ed25519 AAAAnotakey`,
      ].join('\n'),
    );
  });

  test('plain, comma lists, wildcards with negation, hashed, ports, markers', () => {
    const entries = parseKnownHosts(fs.readFileSync(file, 'utf8'), file);
    expect(entries.map((e) => e.line)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(entries.find((e) => e.marker === 'cert-authority')).toBeDefined();
    expect(checkHostKey(entries, ['web1'], 22, keys.ed.blob)).toMatchObject({ kind: 'ok', entry: { line: 3 } });
    expect(checkHostKey(entries, ['10.0.0.5'], 22, keys.ed.blob).kind).toBe('ok');
    // a non-22 port is a different name
    expect(checkHostKey(entries, ['10.0.0.5'], 2222, keys.ed.blob).kind).toBe('unknown');
    expect(checkHostKey(entries, ['10.0.0.6'], 2222, keys.ed2.blob).kind).toBe('ok');
    expect(checkHostKey(entries, ['10.0.0.6'], 22, keys.ed2.blob).kind).toBe('unknown');
    expect(checkHostKey(entries, ['db.lab.test'], 22, keys.ec.blob).kind).toBe('ok');
    // names match without regard to case, plain (WEB1 vs web1) and with wildcards, as in OpenSSH
    expect(checkHostKey(entries, ['WEB1'], 22, keys.ed.blob).kind).toBe('ok');
    expect(checkHostKey(entries, ['DB.Lab.Test'], 22, keys.ec.blob).kind).toBe('ok');
    expect(checkHostKey(entries, ['web1x'], 22, keys.ed.blob).kind).toBe('unknown');
    expect(checkHostKey(entries, ['bad.lab.test'], 22, keys.ec.blob).kind).toBe('unknown');
    expect(checkHostKey(entries, ['secret.example.org'], 22, keys.rsa.blob).kind).toBe('ok');
    expect(checkHostKey(entries, ['secret.example.org'], 2200, keys.ec.blob).kind).toBe('ok');
    expect(checkHostKey(entries, ['secret.example.org'], 22, keys.ed.blob)).toMatchObject({ kind: 'changed', entry: { line: 6 } });
    // the cert-authority line does not make ed2 a known key for a host under *.example.org
    expect(checkHostKey(entries, ['other.example.org'], 22, keys.ed2.blob).kind).toBe('unknown');
  });

  test('a changed key under either name (alias or address) wins over a match', () => {
    const entries = parseKnownHosts(fs.readFileSync(file, 'utf8'), file);
    expect(checkHostKey(entries, ['web1', '10.0.0.5'], 22, keys.ed2.blob)).toMatchObject({ kind: 'changed', entry: { line: 3 } });
    expect(checkHostKey(entries, ['unknown-alias', '10.0.0.5'], 22, keys.ed.blob).kind).toBe('ok');
    expect(checkHostKey(entries, ['web1', '10.9.9.9'], 22, keys.ed.blob).kind).toBe('ok');
  });

  test('a revoked key is refused for any host', () => {
    const entries = parseKnownHosts(fs.readFileSync(file, 'utf8'), file);
    expect(checkHostKey(entries, ['anything'], 22, keys.rev.blob)).toMatchObject({ kind: 'revoked', entry: { line: 9 } });
  });

  test('known key types come first in the algorithms offered', () => {
    const entries = parseKnownHosts(fs.readFileSync(file, 'utf8'), file);
    expect(knownKeyTypes(entries, ['secret.example.org'], 22)).toEqual(['ssh-rsa']);
    const algos = hostKeyAlgorithms(['ssh-rsa']);
    expect(algos.slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(algos).toContain('ssh-ed25519');
    expect(new Set(algos).size).toBe(algos.length);
  });
});

describe('policies', () => {
  const req = (file: string, key: Buffer, policy: 'strict' | 'accept-new' | 'off') => ({
    host: 'db1',
    names: ['db1', '192.0.2.7'],
    port: 2222,
    key,
    policy,
    file,
  });

  test('accept-new appends an unknown host (creating dir 0700 and file 0600), then accepts it', () => {
    const file = path.join(dir, 'new', 'sub', 'known_hosts');
    expect(verifyHostKey(req(file, keys.ed.blob, 'accept-new'))).toBe('added');
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).toBe(`[db1]:2222,[192.0.2.7]:2222 ${keys.ed.line}\n`);
    expect(verifyHostKey(req(file, keys.ed.blob, 'accept-new'))).toBe('ok');
    expect(verifyHostKey(req(file, keys.ed.blob, 'strict'))).toBe('ok');
    // OpenSSH reads what we wrote
    const found = execFileSync('ssh-keygen', ['-F', '[192.0.2.7]:2222', '-f', file], { encoding: 'utf8' });
    expect(found).toContain(keys.ed.line);
  });

  test('a changed key is refused with both fingerprints and file:line, nothing written', () => {
    const file = path.join(dir, 'changed_hosts');
    fs.writeFileSync(file, `# first\n[192.0.2.7]:2222 ${keys.ed.line}`);
    const before = fs.readFileSync(file, 'utf8');
    for (const policy of ['accept-new', 'strict'] as const) {
      let err: HostKeyError | undefined;
      try {
        verifyHostKey(req(file, keys.ed2.blob, policy));
      } catch (e) {
        err = e as HostKeyError;
      }
      expect(err).toBeInstanceOf(HostKeyError);
      expect(err!.host).toBe('db1');
      expect(err!.message).toContain('db1: HOST KEY CHANGED');
      expect(err!.message).toContain(`expected ssh-ed25519 ${fingerprint(keys.ed.blob)} (${file}:2)`);
      expect(err!.message).toContain(`offered ssh-ed25519 ${fingerprint(keys.ed2.blob)}`);
      expect(err!.hint).toContain('line 2');
    }
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  test('strict refuses an unknown host and writes nothing', () => {
    const file = path.join(dir, 'strict_hosts');
    expect(() => verifyHostKey(req(file, keys.ed.blob, 'strict'))).toThrow(/not in .*strict_hosts and host_key_checking is strict/);
    expect(fs.existsSync(file)).toBe(false);
  });

  test('off accepts anything and never writes', () => {
    const file = path.join(dir, 'off_hosts');
    fs.writeFileSync(file, `[192.0.2.7]:2222 ${keys.ed.line}\n`);
    expect(verifyHostKey(req(file, keys.ed2.blob, 'off'))).toBe('unchecked');
    expect(verifyHostKey(req(path.join(dir, 'none'), keys.ed2.blob, 'off'))).toBe('unchecked');
    expect(fs.existsSync(path.join(dir, 'none'))).toBe(false);
    expect(fs.readFileSync(file, 'utf8')).toBe(`[192.0.2.7]:2222 ${keys.ed.line}\n`);
  });

  test('appending to a file without a final newline keeps lines apart', () => {
    const file = path.join(dir, 'nonl');
    fs.writeFileSync(file, `other ${keys.ec.line}`);
    appendKnownHost(file, ['h'], 22, keys.ed.blob);
    expect(fs.readFileSync(file, 'utf8')).toBe(`other ${keys.ec.line}\nh ${keys.ed.line}\n`);
  });
});
