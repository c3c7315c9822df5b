/**
 * Every error tsplay raises on purpose is a TsplayError. The CLI is the only place that
 * catches them at the top, prints `message` (with its location) and exits with `exitCode`.
 * Anything else reaching the top is a bug and is reported as an internal error.
 */

export const EXIT = {
  OK: 0,
  /** usage error, bad input, internal error */
  ERROR: 1,
  /** at least one host failed */
  HOST_FAILED: 2,
  /** at least one host was unreachable */
  UNREACHABLE: 4,
  /** interrupted by SIGINT */
  INTERRUPTED: 130,
} as const;

/** A position in a source file; line and column are 1-based. */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return '';
  let s = loc.file;
  if (loc.line !== undefined) {
    s += `:${loc.line}`;
    if (loc.column !== undefined) s += `:${loc.column}`;
  }
  return s;
}

export class TsplayError extends Error {
  exitCode: number = EXIT.ERROR;
  location?: SourceLocation;
  /** one more line telling the user what to do (did-you-mean, expected values) */
  hint?: string;

  constructor(message: string, location?: SourceLocation, hint?: string) {
    super(message);
    this.name = new.target.name;
    this.location = location;
    this.hint = hint;
  }

  /** "file:line:col: message\n  hint" */
  describe(): string {
    const where = formatLocation(this.location);
    let s = where ? `${where}: ${this.message}` : this.message;
    if (this.hint) s += `\n  ${this.hint}`;
    return s;
  }
}

/** Bad command-line arguments. */
export class UsageError extends TsplayError {}

/** YAML that does not parse, or a file that cannot be read. */
export class YamlError extends TsplayError {}

/** Playbook/role/module-argument content that does not fit the language or a module schema. */
export class ValidationError extends TsplayError {}

/** Inventory syntax, unknown host pattern, bad inventory variable. */
export class InventoryError extends TsplayError {}

/** Template syntax errors and undefined variables; also bad `when` expressions. */
export class TemplateError extends TsplayError {
  /** where in the template text the error is (characters from its start), when known: Templar turns it into a line and column */
  offset?: number;
}

/** Vault: wrong password, corrupted file, missing password. */
export class VaultError extends TsplayError {}

/** Several errors found in one pass (e.g. --syntax-check reports all of them). */
export class MultiError extends TsplayError {
  constructor(readonly errors: TsplayError[]) {
    super(`${errors.length} error${errors.length === 1 ? '' : 's'} found`);
  }
  override describe(): string {
    return this.errors.map((e) => e.describe()).join('\n');
  }
}

/** The host cannot be reached or authenticated against: the host leaves the play as unreachable. */
export class UnreachableError extends TsplayError {
  override exitCode: number = EXIT.UNREACHABLE;
  constructor(readonly host: string, message: string) {
    super(message);
  }
}

/** The host's key is not the one in known_hosts (or unknown under `strict`): a hard refusal. */
export class HostKeyError extends UnreachableError {}

/**
 * A module decided the task failed (a check that did not pass, a command with rc != 0).
 * `result` is merged into the registered result (rc, stdout, stderr, ...).
 */
export class ModuleFailure extends TsplayError {
  override exitCode: number = EXIT.HOST_FAILED;
  constructor(message: string, readonly result: Record<string, unknown> = {}) {
    super(message);
  }
}

/** The run was interrupted (Ctrl-C). */
export class InterruptedError extends TsplayError {
  override exitCode: number = EXIT.INTERRUPTED;
  constructor() {
    super('interrupted');
  }
}
