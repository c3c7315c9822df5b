/**
 * Connection variables that are checked where they are written, not where they are used.
 *
 * - Ports (ansible_port, ansible_ssh_port, tsplay_port) and the keepalive settings must be whole
 *   numbers in range: `notaport` would connect to NaN and `2222x` to 2222 (parseInt). A literal
 *   value is checked when the inventory is read, with the file and line; a templated one
 *   (`{{ base_port + 1 }}`) only when the connection is built, naming the host (sshSettings).
 * - Passwords (ansible_password, ansible_become_password and their old names, or any variable
 *   named *_password / *_pass / *_passphrase) are registered with the masker as soon as they are
 *   read: `debug: var=hostvars` must not print them before a connection or become used them.
 * - A NUL byte cannot be passed to a host (not in an argument, a path or an environment
 *   variable), so an inventory value holding one is refused at load, not mid-run.
 */

import { InventoryError, SourceLocation, TsplayError } from '../errors';
import { secrets } from '../secrets';

export const PORT_VARS = ['ansible_port', 'ansible_ssh_port', 'tsplay_port'];
const KEEPALIVE_INTERVAL_VARS = ['tsplay_keepalive_interval'];
const KEEPALIVE_COUNT_VARS = ['tsplay_keepalive_count'];
/** Secrets by definition: registered whatever their value looks like. */
export const PASSWORD_VARS = [
  'ansible_password',
  'ansible_ssh_pass',
  'ansible_ssh_password',
  'ansible_become_password',
  'ansible_become_pass',
  'ansible_sudo_pass',
  'tsplay_password',
  'tsplay_key_passphrase',
];
/** Names that say "secret" by Ansible's conventions. */
const SECRET_NAME = /_(password|pass|passphrase)$/;

const isTemplate = (v: string): boolean => v.includes('{{') || v.includes('{%');

/** A whole number in [min, max] as written (number or digits), or the reason it is not. */
function wholeNumber(value: unknown, min: number, max: number): number | string {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : JSON.stringify(value);
  const n = typeof value === 'number' ? value : /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n)) return `must be a whole number, got ${JSON.stringify(value)}`;
  if (n < min || n > max) return `must be from ${min} to ${max}, got ${n}`;
  return n;
}

/** A TCP port: a whole number 1..65535, or the reason it is not. */
export function checkPort(value: unknown): number | string {
  return wholeNumber(value, 1, 65535);
}

function findNul(v: unknown, depth = 0): boolean {
  if (typeof v === 'string') return v.includes('\0');
  if (depth > 64 || !v || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some((x) => findNul(x, depth + 1));
  return Object.entries(v).some(([k, x]) => k.includes('\0') || findNul(x, depth + 1));
}

/**
 * Check one inventory variable as it is read (INI, YAML, group_vars/host_vars) and register it
 * with the masker if it is a password. Throws InventoryError at `loc`.
 */
export function checkInventoryVar(key: string, value: unknown, loc: SourceLocation | undefined): void {
  if (findNul(value) || key.includes('\0')) {
    throw new InventoryError(`variable '${key.replace(/\0/g, '\\0')}' contains a NUL byte, which cannot be passed to a host`, loc,
      'remove the NUL (\\0) character from the value');
  }
  const literal = typeof value === 'number' || (typeof value === 'string' && !isTemplate(value));
  if (PASSWORD_VARS.includes(key) || SECRET_NAME.test(key)) {
    if (literal) secrets.add(value);
    return;
  }
  const limits = PORT_VARS.includes(key) ? [1, 65535] : KEEPALIVE_INTERVAL_VARS.includes(key) ? [0, 86400] : KEEPALIVE_COUNT_VARS.includes(key) ? [1, 1000] : null;
  // unset (null), or templated: checked when the connection is built
  if (!limits || value === null || value === undefined || (typeof value === 'string' && isTemplate(value))) return;
  const r = wholeNumber(value, limits[0], limits[1]);
  if (typeof r === 'string') {
    throw new InventoryError(`${key} ${r}`, loc, PORT_VARS.includes(key) ? `a port is a whole number from 1 to 65535, e.g. ${key}=2222` : undefined);
  }
}

export interface SshDefaults {
  /** --keepalive-interval, ms (0: off) */
  keepaliveIntervalMs?: number;
  /** --keepalive-count */
  keepaliveCountMax?: number;
}

export const DEFAULT_KEEPALIVE_INTERVAL_MS = 15_000;
export const DEFAULT_KEEPALIVE_COUNT = 3;

/** `-o ServerAliveInterval=N` in ansible_ssh_common_args / ansible_ssh_extra_args, as OpenSSH reads it. */
function sshOption(vars: Record<string, unknown>, name: string): string | undefined {
  for (const k of ['ansible_ssh_extra_args', 'ansible_ssh_common_args']) {
    const v = vars[k];
    if (typeof v !== 'string') continue;
    const m = new RegExp(`${name}\\s*[= ]\\s*([^\\s'"]+)`, 'i').exec(v);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * The port and keepalive settings of a host, from its (rendered) variables, checked: the
 * values written in the inventory were checked at load, but a templated one only now.
 * Keepalive: a host variable wins over the command line, as ansible_user wins over -u.
 */
export function sshSettings(host: string, vars: Record<string, unknown>, defaults: SshDefaults & { timeoutMs: number }): { port: number; keepaliveIntervalMs: number; keepaliveCountMax: number } {
  const pick = (keys: string[]): unknown => {
    for (const k of keys) if (vars[k] !== undefined && vars[k] !== null && vars[k] !== '') return vars[k];
    return undefined;
  };
  const get = (keys: string[], sshOpt: string, min: number, max: number): number | undefined => {
    const v = pick(keys) ?? (sshOpt ? sshOption(vars, sshOpt) : undefined);
    if (v === undefined) return undefined;
    const r = wholeNumber(v, min, max);
    if (typeof r === 'string') throw new TsplayError(`${host}: ${keys[0]} ${r}`);
    return r;
  };
  const interval = get(KEEPALIVE_INTERVAL_VARS, 'ServerAliveInterval', 0, 86400);
  return {
    port: get(PORT_VARS, '', 1, 65535) ?? 22,
    keepaliveIntervalMs: interval !== undefined ? interval * 1000 : defaults.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_INTERVAL_MS,
    keepaliveCountMax: get(KEEPALIVE_COUNT_VARS, 'ServerAliveCountMax', 1, 1000) ?? defaults.keepaliveCountMax ?? DEFAULT_KEEPALIVE_COUNT,
  };
}
