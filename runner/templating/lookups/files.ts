/**
 * The lookups that read controller files, each found in the task's search list
 * (loader/controller-files.ts, the list copy and template use): file, fileglob, first_found,
 * template.
 */

import fs from 'fs';
import path from 'path';
import { TemplateError } from '../../errors';
import { decodeUtf8 } from '../../yaml';
import { truthy } from '../jinja';
import { isMapping, typeName } from '../jinja/values';
import type { ControllerKind, LookupDef, LookupEnv } from './index';

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function exists(p: string): boolean {
  return fs.existsSync(p);
}

/** The first candidate of `name` under `kind` that exists (Ansible's find_file_in_search_path). */
function find(env: LookupEnv, name: string, kind: ControllerKind, test: (p: string) => boolean = exists): string | undefined {
  return env.candidates(name, kind).find(test);
}

function needString(v: unknown, what: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  throw new TemplateError(`${what} must be a string, got ${typeName(v)}`);
}

/** Python's str.strip family on whitespace. */
const lstrip = (s: string) => s.replace(/^\s+/, '');
const rstrip = (s: string) => s.replace(/\s+$/, '');

/** glob.glob on the last component only (fileglob globs no directories), files only, sorted. */
function globFiles(dir: string, pattern: string): string[] {
  if (!/[*?[]/.test(pattern)) return isFile(path.join(dir, pattern)) ? [path.join(dir, pattern)] : [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]').replace(/\[!/g, '[^')}$`);
  return names
    .sort()
    // as glob: a leading dot is matched only by a pattern that starts with one
    .filter((n) => (!n.startsWith('.') || pattern.startsWith('.')) && re.test(n))
    .map((n) => path.join(dir, n))
    .filter(isFile);
}

/** The template's trailing newlines survive rendering, as with the template module. */
function keepTrailingNewlines(source: string, out: string): string {
  const count = (s: string) => s.length - s.replace(/\n+$/, '').length;
  return out + '\n'.repeat(Math.max(0, count(source) - count(out)));
}

/** first_found's names: strings, lists of them, or {files, paths, skip} mappings (2.14's reading). */
function firstFoundSearch(terms: unknown[], kw: Record<string, unknown>): { search: string[]; skip: boolean } {
  let search: string[] = [];
  let skip = truthy(kw.skip ?? false);
  const split = (v: unknown, seps: RegExp): string[] =>
    v === undefined || v === null ? [] : (Array.isArray(v) ? v : [v]).flatMap((x) => (typeof x === 'string' ? x.split(seps) : [needString(x, 'a file name')])).map((x) => x.trim()).filter(Boolean);
  const visit = (list: unknown[]): void => {
    for (const term of list) {
      if (Array.isArray(term)) {
        visit(term);
        continue;
      }
      let o: Record<string, unknown>;
      if (isMapping(term)) {
        o = term as Record<string, unknown>;
        for (const k of Object.keys(o)) if (!['files', 'paths', 'skip'].includes(k)) throw new TemplateError(`unknown key '${k}' in a term (files, paths, skip)`);
      } else if (typeof term === 'string') o = kw;
      else throw new TemplateError(`a term must be a file name, a list or a {files, paths} mapping, got ${typeName(term)}`);
      if (o.skip !== undefined) skip = truthy(o.skip);
      const files = split(o.files, /[,;]/);
      const paths = split(o.paths, /[,:;]/);
      if (paths.length) for (const p of paths) for (const f of files) search.push(path.join(p, f));
      // as 2.14: a files option replaces what was gathered so far
      else if (files.length) search = files;
      else if (typeof term === 'string') search.push(term);
    }
  };
  visit(terms);
  return { search, skip };
}

export const FILE_LOOKUPS: Record<string, LookupDef> = {
  file: {
    options: ['rstrip', 'lstrip'],
    run(terms, kw, env) {
      return terms.map((t) => {
        const name = needString(t, 'a file name');
        const found = find(env, name, 'files', isFile);
        if (!found) throw new TemplateError(`could not locate file in lookup: ${name}`, undefined, `searched: ${env.candidates(name, 'files').join(', ')}`);
        let text = decodeUtf8(fs.readFileSync(found), found);
        if (truthy(kw.lstrip ?? false)) text = lstrip(text);
        if (truthy(kw.rstrip ?? true)) text = rstrip(text);
        return text;
      });
    },
  },
  fileglob: {
    options: [],
    run(terms, _kw, env) {
      const out: string[] = [];
      for (const t of terms) {
        const term = needString(t, 'a pattern');
        const base = path.basename(term);
        // a pattern with a directory: that directory as the search list finds it; else each
        // directory of the list, files/ first
        const dirs = base !== term ? [find(env, path.dirname(term), 'files')].filter((d): d is string => !!d) : env.candidates('.', 'files').map((d) => path.normalize(d));
        for (const d of dirs) {
          const got = globFiles(d, base);
          if (got.length) {
            out.push(...got);
            break;
          }
        }
      }
      return out;
    },
  },
  first_found: {
    options: ['files', 'paths', 'skip'],
    run(terms, kw, env) {
      const { search, skip } = firstFoundSearch(terms, kw);
      for (const name of search) {
        const found = find(env, name, env.subdir);
        if (found) return [found];
      }
      if (skip) return [];
      throw new TemplateError('No file was found when using first_found.', undefined, search.length ? `looked for: ${search.join(', ')}` : undefined);
    },
  },
  template: {
    options: ['template_vars', 'convert_data', 'variable_start_string', 'variable_end_string', 'comment_start_string', 'comment_end_string', 'jinja2_native'],
    run(terms, kw, env) {
      for (const k of ['variable_start_string', 'variable_end_string', 'comment_start_string', 'comment_end_string', 'jinja2_native']) {
        if (kw[k] !== undefined) throw new TemplateError(`option '${k}' is not supported`);
      }
      const extra = kw.template_vars ?? {};
      if (!isMapping(extra)) throw new TemplateError(`template_vars must be a mapping, got ${typeName(extra)}`);
      return terms.map((t) => {
        const name = needString(t, 'a template name');
        const found = find(env, name, 'templates', isFile);
        if (!found) throw new TemplateError(`the template file ${name} could not be found for the lookup`, undefined, `searched: ${env.candidates(name, 'templates').join(', ')}`);
        const text = decodeUtf8(fs.readFileSync(found), found);
        return keepTrailingNewlines(text, env.render(text, found, extra as Record<string, unknown>));
      });
    },
  },
};
