/**
 * The filters an Ansible user reaches for. Arguments bind like Python: by keyword, else by
 * position (`default('x', true)` == `default('x', boolean=true)`), and Liquid's spelling
 * (`default: 'x'`) binds the same way. Liquid's own filters (size, append, ...) are reached
 * through the engine when no filter here has the name. Lists and mappings: collections.ts.
 */

import { createHash } from 'crypto';
import { Document as YamlDocument, isScalar, parse as parseYamlText, visit as yamlVisit } from 'yaml';
import { TemplateError } from '../../errors';
import { parseBoolean } from '../../booleans';
import { quote as shellQuote } from '../../shell-quote';
import { COLLECTION_FILTERS } from './collections';
import { f, FilterDef, FilterEnv, Kwargs, needString, str } from './filter-def';
import { compareVersions, param, versionTest } from './predicates';
import { pyJson } from './pytext';
import { pyRegex, pyReplacer } from './regex';
import { toList, truthy, typeName, Undefined } from './values';

export type { FilterDef, FilterEnv, Kwargs };

/** json.dumps as Ansible's to_json/to_nice_json call it (runner/templating/jinja/pytext.ts). */
function toJson(v: unknown, indent: unknown, sortKeys: unknown): string {
  const ind = indent === null || indent === undefined ? undefined : Number(indent);
  return pyJson(v, ind, truthy(sortKeys));
}

/**
 * yaml.dump as Ansible's to_yaml (flow style for collections of scalars, PyYAML's
 * default_flow_style=None) and to_nice_yaml (block style) call it: keys sorted, YAML 1.1
 * quoting (PyYAML quotes 'yes', 'on', '1.0'), single quotes preferred. PyYAML's line folding
 * at 80 columns and its indentless sequences under to_nice_yaml are not reproduced.
 */
function toYaml(v: unknown, indent: unknown, sortKeys: boolean, flowLeaves: boolean): string {
  const doc = new YamlDocument(v, { version: '1.1', sortMapEntries: sortKeys });
  if (flowLeaves) {
    const leaf = (n: { items: unknown[]; flow?: boolean }, items: unknown[]) => {
      if (items.length && items.every((i) => isScalar(i))) n.flow = true;
    };
    yamlVisit(doc, {
      Map: (_k, n) => leaf(n, n.items.map((p) => p.value)),
      Seq: (_k, n) => leaf(n, n.items),
    });
  }
  return doc.toString({ indent: Number(indent ?? 2) || 2, lineWidth: 0, flowCollectionPadding: false, singleQuote: true });
}

function toInt(v: unknown, dflt: unknown, base: number): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : dflt;
  if (typeof v === 'string') {
    const s = v.trim().replace(/_/g, '');
    if (base !== 10) {
      const prefix: Record<number, RegExp> = { 16: /^[-+]?(0x)?[0-9a-f]+$/i, 8: /^[-+]?(0o)?[0-7]+$/i, 2: /^[-+]?(0b)?[01]+$/i };
      const re = prefix[base] ?? new RegExp(`^[-+]?[0-9a-z]+$`, 'i');
      if (!re.test(s)) return dflt;
      const sign = s.startsWith('-') ? -1 : 1;
      const n = parseInt(s.replace(/^[-+]/, '').replace(/^0[xob]/i, ''), base);
      return Number.isNaN(n) ? dflt : sign * n;
    }
    if (/^[-+]?\d+$/.test(s)) return parseInt(s, 10);
    if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s)) return Math.trunc(parseFloat(s));
    return dflt;
  }
  return dflt;
}

function toFloat(v: unknown, dflt: unknown): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const s = v.trim().replace(/_/g, '');
    if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s)) return parseFloat(s);
    if (/^[-+]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
    return dflt;
  }
  return dflt;
}

/** `bool`: the one boolean rule; anything that is not a boolean spelling is false (Ansible's to_bool). */
function toBool(v: unknown): boolean {
  return parseBoolean(v) ?? false;
}

/** Python str.split semantics (no separator: runs of whitespace, no empty items). */
function pySplit(s: string, sep: unknown, maxsplit: number): string[] {
  if (sep === null || sep === undefined) {
    const out: string[] = [];
    let rest = s.replace(/^\s+/, '');
    while (rest) {
      if (maxsplit >= 0 && out.length === maxsplit) {
        out.push(rest);
        break;
      }
      const m = /\s+/.exec(rest);
      if (!m) {
        out.push(rest);
        break;
      }
      out.push(rest.slice(0, m.index));
      rest = rest.slice(m.index + m[0].length);
    }
    return out;
  }
  const sp = String(sep);
  if (sp === '') throw new TemplateError('split: empty separator');
  const parts = s.split(sp);
  if (maxsplit < 0 || parts.length <= maxsplit + 1) return parts;
  return [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(sp)];
}

function pyStrip(s: string, chars: unknown, side: 'both' | 'left' | 'right'): string {
  if (chars === null || chars === undefined) {
    if (side === 'left') return s.replace(/^\s+/, '');
    if (side === 'right') return s.replace(/\s+$/, '');
    return s.trim();
  }
  const set = new Set([...String(chars)]);
  let a = 0;
  let b = s.length;
  if (side !== 'right') while (a < b && set.has(s[a])) a++;
  if (side !== 'left') while (b > a && set.has(s[b - 1])) b--;
  return s.slice(a, b);
}

function pyBasename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

function pyDirname(p: string): string {
  const i = p.lastIndexOf('/') + 1;
  const head = p.slice(0, i);
  return head && head !== '/'.repeat(head.length) ? head.replace(/\/+$/, '') : head;
}

function regexGroupRefs(args: unknown[]): Array<number | string> {
  return args.map((a) => {
    const s = String(a);
    const num = /^\\(\d+)$/.exec(s);
    if (num) return Number(num[1]);
    const named = /^\\g<(\w+)>$/.exec(s);
    if (named) return /^\d+$/.test(named[1]) ? Number(named[1]) : named[1];
    throw new TemplateError(`regex_search: unknown group reference '${s}'`, undefined, "use '\\\\1' or '\\\\g<name>'");
  });
}

export const FILTERS: Record<string, FilterDef> = Object.assign(
  Object.create(null) as Record<string, FilterDef>,
  {
  // -- undefined handling
  default: f((x, a, k) => {
    const useFalsy = truthy(param(a, k, 1, 'boolean', false));
    if (x instanceof Undefined || (useFalsy && !truthy(x))) return param(a, k, 0, 'default_value', '');
    return x;
  }, true),
  mandatory: f((x, a, k) => {
    if (x instanceof Undefined) {
      const msg = param(a, k, 0, 'msg');
      throw new TemplateError(msg !== undefined ? String(msg) : `mandatory variable '${x.name}' is not defined`);
    }
    return x;
  }, true),
  type_debug: f((x) => typeName(x), true),

  // -- type conversion
  bool: f((x) => toBool(x)),
  int: f((x, a, k) => toInt(x, param(a, k, 0, 'default', 0), Number(param(a, k, 1, 'base', 10)))),
  float: f((x, a, k) => toFloat(x, param(a, k, 0, 'default', 0))),
  string: f((x) => str(x)),
  list: f((x) => [...toList(x, 'the list filter input')]),

  // -- strings
  lower: f((x) => str(x).toLowerCase()),
  upper: f((x) => str(x).toUpperCase()),
  capitalize: f((x) => {
    const s = str(x);
    return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
  }),
  title: f((x) => str(x).replace(/\w\S*/g, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())),
  trim: f((x, a, k) => pyStrip(str(x), param(a, k, 0, 'chars'), 'both')),
  replace: f((x, a, k) => {
    const s = needString('replace', x);
    const old = str(param(a, k, 0, 'old', ''));
    const rep = str(param(a, k, 1, 'new', ''));
    const count = param(a, k, 2, 'count');
    if (count === undefined || count === null || Number(count) < 0) return old === '' ? s : s.split(old).join(rep);
    let out = s;
    let from = 0;
    for (let n = 0; n < Number(count); n++) {
      const i = out.indexOf(old, from);
      if (i < 0 || old === '') break;
      out = out.slice(0, i) + rep + out.slice(i + old.length);
      from = i + rep.length;
    }
    return out;
  }),
  split: f((x, a, k) => pySplit(needString('split', x), param(a, k, 0, 'sep'), Number(param(a, k, 1, 'maxsplit', -1)))),
  regex_replace: f((x, a, k) => {
    const s = str(x);
    const pattern = str(param(a, k, 0, 'pattern', ''));
    const repl = str(param(a, k, 1, 'replacement', ''));
    const count = Number(param(a, k, -1, 'count', 0));
    const re = pyRegex(pattern, { ignorecase: param(a, k, 2, 'ignorecase'), multiline: param(a, k, 3, 'multiline'), global: true });
    const replacer = pyReplacer(repl);
    if (!count) return s.replace(re, replacer);
    let n = 0;
    return s.replace(re, (...m: unknown[]) => (n++ < count ? replacer(...(m as [string, ...unknown[]])) : (m[0] as string)));
  }),
  regex_search: f((x, a, k) => {
    const s = str(x);
    const pattern = str(param(a, k, 0, 'pattern', ''));
    const refs = regexGroupRefs(a.slice(1));
    const re = pyRegex(pattern, { ignorecase: k.ignorecase, multiline: k.multiline });
    const m = re.exec(s);
    if (!m) return null;
    if (!refs.length) return m[0];
    return refs.map((r) => {
      if (typeof r === 'number') {
        if (r >= m.length) throw new TemplateError(`regex_search: the pattern has no group ${r}`);
        return m[r] ?? null;
      }
      if (!m.groups || !(r in m.groups)) throw new TemplateError(`regex_search: the pattern has no group '${r}'`);
      return m.groups[r] ?? null;
    });
  }),
  regex_findall: f((x, a, k) => {
    const s = str(x);
    const re = pyRegex(str(param(a, k, 0, 'pattern', '')), { ignorecase: param(a, k, 1, 'ignorecase'), multiline: param(a, k, 2, 'multiline'), global: true });
    const out: unknown[] = [];
    for (const m of s.matchAll(re)) {
      // Python findall: the match without groups, the group with one, a tuple with several
      if (m.length === 1) out.push(m[0]);
      else if (m.length === 2) out.push(m[1] ?? '');
      else out.push(m.slice(1).map((g) => g ?? ''));
    }
    return out;
  }),
  regex_escape: f((x) => str(x).replace(/[.*+?^${}()|[\]\\\-/#&~'"\s=!<>:,%@`]/g, '\\$&')),
  b64encode: f((x) => Buffer.from(str(x), 'utf8').toString('base64')),
  b64decode: f((x) => Buffer.from(needString('b64decode', x), 'base64').toString('utf8')),
  hash: f((x, a, k) => {
    const algo = String(param(a, k, 0, 'hashtype', 'sha1')).toLowerCase();
    if (!['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'].includes(algo)) {
      throw new TemplateError(`hash: unsupported hash type '${algo}'`, undefined, 'use md5, sha1, sha224, sha256, sha384 or sha512');
    }
    return createHash(algo).update(str(x), 'utf8').digest('hex');
  }),
  checksum: f((x) => createHash('sha1').update(str(x), 'utf8').digest('hex')),
  quote: f((x) => {
    if (Array.isArray(x)) return x.map((i) => shellQuote(str(i))).join(' ');
    if (x !== null && typeof x === 'object') throw new TemplateError(`quote expects a string or a list, got ${typeName(x)}`);
    return shellQuote(str(x));
  }),
  basename: f((x) => pyBasename(needString('basename', x))),
  dirname: f((x) => pyDirname(needString('dirname', x))),
  indent: f((x, a, k) => {
    const w = param(a, k, 0, 'width', 4);
    const pad = typeof w === 'string' ? w : ' '.repeat(Number(w));
    const first = truthy(param(a, k, 1, 'first', false));
    const blank = truthy(param(a, k, 2, 'blank', false));
    const lines = str(x).split('\n');
    return lines.map((l, i) => ((i === 0 && !first) || (!blank && l === '') ? l : pad + l)).join('\n');
  }),

  // -- serialisation
  to_json: f((x, a, k) => toJson(x, param(a, k, -1, 'indent'), param(a, k, -1, 'sort_keys'))),
  to_nice_json: f((x, a, k) => toJson(x, param(a, k, 0, 'indent', 4), param(a, k, -1, 'sort_keys', true))),
  to_yaml: f((x, a, k) => toYaml(x, param(a, k, -1, 'indent', 2), truthy(param(a, k, -1, 'sort_keys', true)), true)),
  to_nice_yaml: f((x, a, k) => toYaml(x, param(a, k, 0, 'indent', 4), truthy(param(a, k, -1, 'sort_keys', true)), false)),
  from_json: f((x) => {
    try {
      return JSON.parse(needString('from_json', x));
    } catch (e) {
      // the parser's own message quotes the input, which may be a secret: say where, not what
      const at = /position (\d+)/.exec((e as Error).message)?.[1];
      throw new TemplateError(`from_json: not valid JSON${at ? ` (at character ${at})` : ''}`);
    }
  }),
  from_yaml: f((x) => {
    try {
      return parseYamlText(needString('from_yaml', x), { uniqueKeys: false });
    } catch (e) {
      const pos = (e as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
      throw new TemplateError(`from_yaml: not valid YAML${pos ? ` (line ${pos.line}, column ${pos.col})` : ''}`);
    }
  }),
  },
  COLLECTION_FILTERS,
  {
  // -- numbers and logic
  abs: f((x) => Math.abs(numberOf('abs', x))),
  round: f((x, a, k) => {
    const n = numberOf('round', x);
    const precision = Number(param(a, k, 0, 'precision', 0));
    const method = String(param(a, k, 1, 'method', 'common'));
    const m = 10 ** precision;
    if (method === 'ceil') return Math.ceil(n * m) / m;
    if (method === 'floor') return Math.floor(n * m) / m;
    if (method !== 'common') throw new TemplateError(`round: unknown method '${method}'`, undefined, 'use common, ceil or floor');
    return (Math.sign(n) * Math.round(Math.abs(n) * m)) / m;
  }),
  ternary: f((x, a, k) => {
    const noneVal = param(a, k, 2, 'none_val');
    if ((x === null || x === undefined) && noneVal !== undefined) return noneVal;
    return truthy(x) ? param(a, k, 0, 'true_val') : param(a, k, 1, 'false_val');
  }),
  version_compare: f((x, a, k) => versionTest(x, a, k)),
  },
);

function numberOf(name: string, x: unknown): number {
  if (typeof x === 'number') return x;
  if (typeof x === 'string' && x.trim() !== '' && !Number.isNaN(Number(x))) return Number(x);
  throw new TemplateError(`the '${name}' filter expects a number, got ${typeName(x)}`);
}

FILTERS.d = FILTERS.default;

export { compareVersions };
