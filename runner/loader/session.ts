/**
 * One load pass: collects every error instead of stopping at the first (so --syntax-check and
 * `run` report all problems at once), and reads each YAML file once even when it is imported
 * from several places.
 */

import { promises as fs, readFileSync } from 'fs';
import { MultiError, TsplayError, ValidationError, type SourceLocation } from '../errors';
import { loadYamlFile, type YamlOptions } from '../yaml';

export class Session {
  readonly errors: TsplayError[] = [];
  /**
   * Problems of dynamic include targets (include_tasks / include_role written with a literal
   * name): not errors of this load, since such a file may never run on these hosts (a
   * FreeBSD-only setup file); the run reports them when the file is included, --syntax-check
   * as warnings.
   */
  readonly deferred: TsplayError[] = [];
  private readonly seen = new Set<string>();
  private readonly files = new Map<string, Promise<{ ok: true; data: unknown } | { ok: false; error: TsplayError }>>();
  private readonly sources = new Map<string, string | undefined>();
  private readonly stats = new Map<string, Promise<'file' | 'dir' | null>>();

  constructor(private readonly yamlOpts: YamlOptions) {}

  /** Record an error; the same error reached twice (a file imported twice) is kept once. */
  add(e: TsplayError): void {
    const key = e.describe();
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.errors.push(e);
  }

  /** Run `fn`; the errors it records are moved to `deferred` (each kept once). */
  async defer(fn: () => Promise<void>): Promise<void> {
    const before = this.errors.length;
    try {
      await fn();
    } finally {
      for (const e of this.errors.splice(before)) {
        const key = e.describe();
        // forgotten as an error: the same problem reached by a static import is still one
        this.seen.delete(key);
        if (!this.deferred.some((d) => d.describe() === key)) this.deferred.push(e);
      }
    }
  }

  error(message: string, loc: SourceLocation | undefined, hint?: string): void {
    this.add(new ValidationError(message, loc, hint));
  }

  /** Parsed YAML of a file, or undefined after recording why it could not be read. */
  async yaml(file: string): Promise<unknown | undefined> {
    let p = this.files.get(file);
    if (!p) {
      p = loadYamlFile(file, this.yamlOpts).then(
        (data) => ({ ok: true as const, data }),
        (e: unknown) => {
          if (e instanceof TsplayError) return { ok: false as const, error: e };
          throw e;
        },
      );
      this.files.set(file, p);
    }
    const r = await p;
    if (r.ok) return r.data;
    this.add(r.error);
    return undefined;
  }

  async kind(file: string): Promise<'file' | 'dir' | null> {
    let p = this.stats.get(file);
    if (!p) {
      p = fs.stat(file).then(
        (s) => (s.isDirectory() ? 'dir' : 'file'),
        () => null,
      );
      this.stats.set(file, p);
    }
    return p;
  }

  /** The first candidate that is a regular file. */
  async firstFile(candidates: string[]): Promise<string | undefined> {
    for (const c of candidates) if ((await this.kind(c)) === 'file') return c;
    return undefined;
  }

  /**
   * The text of a file already loaded, for pointing inside a value. Read again only when an
   * error needs it (rare), so a normal load keeps one read per file.
   */
  source(file: string): string | undefined {
    if (!this.sources.has(file)) {
      let text: string | undefined;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        text = undefined;
      }
      this.sources.set(file, text);
    }
    return this.sources.get(file);
  }

  /**
   * For a file included at run time: every error at once in one message, each line naming its
   * file:line, so the include task's failure shows them all.
   */
  throwIncludeErrors(what: string): void {
    if (!this.errors.length) return;
    const n = this.errors.length;
    throw new ValidationError(`${what} is not valid (${n} error${n === 1 ? '' : 's'}):\n${this.errors.map((e) => e.describe()).join('\n')}`);
  }

  /** Throw what was collected: the single error as it is, several as a MultiError. */
  throwIfErrors(): void {
    if (this.errors.length === 1) throw this.errors[0];
    if (this.errors.length > 1) throw new MultiError([...this.errors]);
  }
}
