/**
 * A template file as Ansible's template module reads it: the `#jinja2:` first line (options for
 * this file, removed), newlines read as \n and written as the newline sequence, Jinja dropping
 * the file's last newline and the module adding back as many as the file ended with, and the
 * other templates it includes, extends or imports found on the template search path.
 */

import fs from 'fs';
import path from 'path';
import { TemplateError, TsplayError } from '../errors';
import { decodeUtf8 } from '../yaml';
import { compileTemplate, type CompiledTemplate, type ParseOptions } from './compile';
import { evaluateValue, objectScope, parseExpression, unknownNames } from './jinja';
import { lineColumn, type LoadedTemplate, type TemplateLoader } from './liquid-context';

/** The template module's options of a file's rendering (Ansible's argument names in comments). */
export interface TemplateFileOptions {
  /** trim_blocks (default true) */
  trimBlocks?: boolean;
  /** lstrip_blocks (default false) */
  lstripBlocks?: boolean;
  /** newline_sequence: '\n' (default), '\r' or '\r\n' */
  newlineSequence?: string;
  /** comment_start_string / comment_end_string (default `{#` `#}`) */
  commentStart?: string;
  commentEnd?: string;
  /** block_* / variable_* strings: only Jinja's defaults are supported */
  blockStart?: string;
  blockEnd?: string;
  variableStart?: string;
  variableEnd?: string;
  /** the directories included, extended and imported templates are looked for in, in order */
  searchPath?: string[];
}

const HEADER = '#jinja2:';
const NEWLINES = new Set(['\n', '\r', '\r\n']);
const DEFAULT_DELIMITERS = { blockStart: '{%', blockEnd: '%}', variableStart: '{{', variableEnd: '}}' } as const;
const HEADER_KEYS: Record<string, keyof TemplateFileOptions> = {
  trim_blocks: 'trimBlocks',
  lstrip_blocks: 'lstripBlocks',
  newline_sequence: 'newlineSequence',
  comment_start_string: 'commentStart',
  comment_end_string: 'commentEnd',
  block_start_string: 'blockStart',
  block_end_string: 'blockEnd',
  variable_start_string: 'variableStart',
  variable_end_string: 'variableEnd',
};
const ARG_NAMES = Object.fromEntries(Object.entries(HEADER_KEYS).map(([k, v]) => [v, k]));

/** A template file ready to compile. */
export interface PreparedFile {
  file: string;
  /** the text to parse: after the header, newlines as \n, the last newline dropped */
  body: string;
  /** lines the header took (error lines are counted from the file's top) */
  headerLines: number;
  /** trailing newlines of the file, which the output keeps at least */
  trailingNewlines: number;
  parse: ParseOptions;
  newline: string;
}

function fail(msg: string, file: string, line = 1, hint?: string): TemplateError {
  return new TemplateError(msg, { file, line }, hint);
}

/** `#jinja2: trim_blocks: False, newline_sequence: '\r\n'`: Python literals per key. */
function readHeader(line: string, file: string): TemplateFileOptions {
  const out: Record<string, unknown> = {};
  for (const pair of line.split(',')) {
    const colon = pair.indexOf(':');
    if (colon < 0) throw fail(`cannot read the #jinja2: header: '${pair.trim()}' is not key: value`, file);
    const key = pair.slice(0, colon).trim();
    const prop = HEADER_KEYS[key];
    if (!prop) throw fail(`#jinja2: header: unknown option '${key}'`, file, 1, `known: ${Object.keys(HEADER_KEYS).join(' ')}`);
    let v: unknown;
    try {
      v = evaluateValue(parseExpression(pair.slice(colon + 1).trim()), objectScope({}, true));
    } catch (e) {
      throw fail(`#jinja2: header: the value of ${key} is not a literal: ${(e as Error).message}`, file);
    }
    out[prop] = v;
  }
  return out as TemplateFileOptions;
}

/** Options as given (module arguments or the header): checked, with a clear error naming the argument. */
function checkOptions(o: TemplateFileOptions, file: string): void {
  for (const k of ['trimBlocks', 'lstripBlocks'] as const) if (o[k] !== undefined && typeof o[k] !== 'boolean') throw fail(`${ARG_NAMES[k]} must be a boolean`, file);
  if (o.newlineSequence !== undefined && !NEWLINES.has(o.newlineSequence)) throw fail(`newline_sequence must be '\\n', '\\r' or '\\r\\n', not ${JSON.stringify(o.newlineSequence)}`, file);
  for (const [k, def] of Object.entries(DEFAULT_DELIMITERS) as Array<[keyof typeof DEFAULT_DELIMITERS, string]>) {
    const v = o[k];
    if (v !== undefined && v !== def) throw fail(`${ARG_NAMES[k]} '${v}' is not supported: tsplay's templates use ${def}`, file, 1, 'only comment_start_string and comment_end_string can be changed');
  }
  for (const k of ['commentStart', 'commentEnd'] as const) {
    const v = o[k];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !v || /\{%|%\}|\{\{|\}\}/.test(v)) throw fail(`${ARG_NAMES[k]} must be a non-empty string other than the block and variable delimiters`, file);
  }
}

/** Count the \n at the end of `s`, as Ansible counts them (a \r before one stops the count). */
function trailingNewlines(s: string): number {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\n'; i--) n++;
  return n;
}

export function prepareFile(text: string, file: string, given: TemplateFileOptions): PreparedFile {
  checkOptions(given, file);
  let opts = given;
  let body = text;
  let headerLines = 0;
  if (text.startsWith(HEADER)) {
    const eol = text.indexOf('\n');
    const line = text.slice(HEADER.length, eol < 0 ? text.length : eol).replace(/\r$/, '');
    const header = readHeader(line, file);
    checkOptions(header, file);
    // the file's own header wins over the task's arguments (as in Ansible)
    opts = { ...given, ...header };
    body = eol < 0 ? '' : text.slice(eol + 1);
    headerLines = 1;
  }
  const trailing = trailingNewlines(body);
  const newline = opts.newlineSequence ?? '\n';
  const parse: ParseOptions = {
    file,
    trimBlocks: opts.trimBlocks ?? true,
    lstripBlocks: opts.lstripBlocks ?? false,
    comments: { start: opts.commentStart ?? '{#', end: opts.commentEnd ?? '#}' },
  };
  if (newline !== '\n') parse.newline = newline;
  return { file, body: dropLastNewline(body.replace(/\r\n?/g, '\n')), headerLines, trailingNewlines: trailing, parse, newline };
}

function dropLastNewline(s: string): string {
  return s.endsWith('\n') ? s.slice(0, -1) : s;
}

/** Compile a prepared text; a syntax error names the file and its line. */
export function compileIn(text: string, parse: ParseOptions, headerLines = 0): CompiledTemplate {
  try {
    return compileTemplate(text, parse);
  } catch (e) {
    throw placeIn(e, text, parse.file!, headerLines);
  }
}

/** An error from a template file: its line in that file (counting the header line). */
export function placeIn(e: unknown, text: string, file: string, headerLines: number): unknown {
  if (!(e instanceof TemplateError)) return e;
  if (!e.location && e.offset !== undefined) {
    const { line, column } = lineColumn(text, e.offset);
    e.location = { file, line: line + headerLines, column };
  } else if (!e.location) e.location = { file };
  else if (headerLines && e.location.file === file && e.location.line !== undefined && !(e as { shifted?: boolean }).shifted) {
    e.location = { ...e.location, line: e.location.line + headerLines };
    (e as { shifted?: boolean }).shifted = true;
  }
  return e;
}

/** The output's trailing newlines: at least as many as the file had (Ansible's preserve_trailing_newlines). */
export function keepTrailingNewlines(out: string, p: PreparedFile): string {
  const missing = p.trailingNewlines - trailingNewlines(out);
  return missing > 0 ? out + p.newline.repeat(missing) : out;
}

/**
 * Templates named by include/extends/import, looked for in the search path as Jinja's file
 * loader does: a name is relative to each directory (a leading / too), `..` is refused.
 */
export class FileLoader implements TemplateLoader {
  private readonly cache = new Map<string, LoadedTemplate | undefined>();
  constructor(
    private readonly searchPath: string[],
    private readonly parse: ParseOptions,
  ) {}

  private candidates(name: string): string[] {
    const parts = name.split(/[/\\]+/).filter((p) => p && p !== '.');
    if (parts.includes('..')) throw new TemplateError(`template name '${name}' must not contain '..'`, undefined, 'names are relative to the template search path');
    return this.searchPath.map((d) => path.join(d, ...parts));
  }

  searched(name: string): string[] {
    return this.candidates(name);
  }

  /** The path of `name`, or undefined. */
  find(name: string): string | undefined {
    return this.candidates(name).find((p) => {
      try {
        return fs.statSync(p).isFile();
      } catch {
        return false;
      }
    });
  }

  load(name: string): LoadedTemplate | undefined {
    if (this.cache.has(name)) return this.cache.get(name);
    const file = this.find(name);
    let out: LoadedTemplate | undefined;
    if (file) {
      const text = dropLastNewline(decodeUtf8(fs.readFileSync(file), file).replace(/\r\n?/g, '\n'));
      const c = compileIn(text, { ...this.parse, file });
      out = { file, text, templates: c.templates! };
    }
    this.cache.set(name, out);
    return out;
  }
}

/**
 * Check a template file before the run: its syntax, its filters and tests, and that each
 * template it names literally exists (and is itself correct). Returns every problem found.
 */
export function checkTemplateFile(text: string, file: string, opts: TemplateFileOptions = {}): TemplateError[] {
  const errors: TemplateError[] = [];
  const seen = new Set<string>();
  const visit = (body: string, f: string, parse: ParseOptions, headerLines: number): void => {
    if (seen.has(f)) return;
    seen.add(f);
    let c: CompiledTemplate;
    try {
      c = compileIn(body, { ...parse, file: f }, headerLines);
    } catch (e) {
      if (e instanceof TemplateError) return void errors.push(e);
      throw e;
    }
    for (const x of c.exprs) {
      const err = unknownNames(x);
      if (err) errors.push(placeIn(err, body, f, headerLines) as TemplateError);
    }
    const loader = new FileLoader(opts.searchPath ?? [], parse);
    for (const ref of c.refs ?? []) {
      const found = ref.names.map((n) => loader.find(n)).find((x) => x !== undefined);
      if (!found) {
        if (ref.optional) continue;
        const err = new TemplateError(`template '${ref.names.join("', '")}' not found`, undefined, `searched: ${ref.names.flatMap((n) => loader.searched(n)).join(', ')}`);
        err.offset = ref.offset;
        errors.push(placeIn(err, body, f, headerLines) as TemplateError);
        continue;
      }
      let inner: string;
      try {
        inner = decodeUtf8(fs.readFileSync(found), found).replace(/\r\n?/g, '\n').replace(/\n$/, '');
      } catch (e) {
        if (e instanceof TsplayError) errors.push(e as TemplateError);
        else errors.push(new TemplateError(`cannot read template ${found}: ${(e as Error).message}`, { file: f }));
        continue;
      }
      visit(inner, found, parse, 0);
    }
  };
  try {
    const p = prepareFile(text, file, opts);
    visit(p.body, file, p.parse, p.headerLines);
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    errors.push(e);
  }
  return errors;
}
