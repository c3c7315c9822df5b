/**
 * Host entries as Ansible writes them in inventories: `name`, `name:port`, `[v6addr]:port`,
 * and ranges that stand for many hosts: `db[01:03]` (zero-padded: db01 db02 db03),
 * `web[a:c]`, `node[1:10:2]` (step), several ranges in one name (`r[1:2]n[a:b]`).
 */

import { InventoryError, SourceLocation } from '../errors';

export interface HostEntry {
  hosts: string[];
  /** from a `:port` suffix */
  port?: number;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A range expansion of 100,000 names is a typo (`[1:100000]`), not an inventory. */
const MAX_HOSTS_PER_ENTRY = 100_000;

/** Split off a `:port` suffix the way Ansible's parse_address does, keeping `[x:y]` ranges whole. */
function splitPort(entry: string): { name: string; port?: number } {
  const bracketed = /^\[(.+)\]:([0-9]+)$/.exec(entry);
  if (bracketed && !/^[0-9]*:[0-9]*(?::[0-9]+)?$|^[a-zA-Z]:[a-zA-Z](?::[0-9]+)?$/.test(bracketed[1])) {
    return { name: bracketed[1], port: Number(bracketed[2]) };
  }
  // outside brackets, a second colon means an IPv6 address, which takes a port only in brackets
  const m = /^((?:[^:[\]]|\[[^\]]*\])+):([0-9]+)$/.exec(entry);
  if (m) return { name: m[1], port: Number(m[2]) };
  return { name: entry };
}

function expandFirstRange(name: string, loc: SourceLocation | undefined): string[] {
  const open = name.indexOf('[');
  const close = name.indexOf(']', open);
  if (close < 0) {
    throw new InventoryError(`host range in '${name}' has no closing ']'`, loc, 'a range is written [begin:end] or [begin:end:step], e.g. db[01:10]');
  }
  const head = name.slice(0, open);
  const body = name.slice(open + 1, close);
  const tail = name.slice(close + 1);
  const bounds = body.split(':');
  const bad = (why: string): never => {
    throw new InventoryError(`bad host range [${body}] in '${name}': ${why}`, loc,
      'a range is written [begin:end] or [begin:end:step]: db[01:10], web[a:f], node[1:9:2]');
  };
  if (bounds.length !== 2 && bounds.length !== 3) bad('expected begin:end or begin:end:step');
  let [beg, end] = bounds;
  const stepText = bounds[2] ?? '1';
  if (!/^[0-9]+$/.test(stepText) || Number(stepText) < 1) bad('the step must be a positive integer');
  const step = Number(stepText);
  if (beg === '') beg = '0';
  if (end === '') bad('the end is missing');
  let seq: string[];
  const bi = LETTERS.indexOf(beg);
  const ei = LETTERS.indexOf(end);
  if (beg.length === 1 && end.length === 1 && bi >= 0 && ei >= 0) {
    if (bi > ei) bad('begin is after end');
    seq = [];
    for (let i = bi; i <= ei; i += step) seq.push(LETTERS[i]);
  } else {
    if (!/^[0-9]+$/.test(beg) || !/^[0-9]+$/.test(end)) bad('begin and end must both be numbers or both single letters');
    // a leading zero asks for zero-padded names of that width (db01..db10)
    const width = beg.length > 1 && beg[0] === '0' ? beg.length : 0;
    if (width && end.length !== width) bad(`zero-padded begin '${beg}' and end '${end}' must have the same width`);
    const b = Number(beg);
    const e = Number(end);
    if (b > e) bad('begin is after end');
    if ((e - b) / step + 1 > MAX_HOSTS_PER_ENTRY) bad(`more than ${MAX_HOSTS_PER_ENTRY} hosts`);
    seq = [];
    for (let i = b; i <= e; i += step) seq.push(width ? String(i).padStart(width, '0') : String(i));
  }
  const out: string[] = [];
  for (const piece of seq) {
    const expanded = head + piece + tail;
    if (tail.includes('[')) out.push(...expandFirstRange(expanded, loc));
    else out.push(expanded);
    if (out.length > MAX_HOSTS_PER_ENTRY) bad(`more than ${MAX_HOSTS_PER_ENTRY} hosts`);
  }
  return out;
}

/** Expand one inventory host entry into host names and an optional port. */
export function expandHostEntry(entry: string, loc?: SourceLocation): HostEntry {
  if (entry.trim() === '') throw new InventoryError('empty host name', loc);
  const { name, port } = splitPort(entry);
  if (port !== undefined && (port < 1 || port > 65535)) {
    throw new InventoryError(`port ${port} of host '${name}' is out of range (1-65535)`, loc);
  }
  if (port === undefined && entry.endsWith(':') && !entry.endsWith('::')) {
    throw new InventoryError(`host '${entry}' ends in ':'`, loc, "':' after a host name introduces a port: write host:2222, or drop the ':'");
  }
  const hosts = name.includes('[') ? expandFirstRange(name, loc) : [name];
  return port === undefined ? { hosts } : { hosts, port };
}
