/**
 * Errors raised by the connection layer on top of those in runner/errors.ts. They are
 * per-host task failures (ModuleFailure: exit code 2), not unreachable hosts: the connection
 * itself still works, the command or the privilege escalation did not.
 */

import { ModuleFailure } from '../errors';

/** sudo/su could not give us a shell as the become user (password missing or wrong, not allowed). */
export class BecomeError extends ModuleFailure {}

/** A command ran longer than its timeoutMs and was killed; partial output is in `result`. */
export class CommandTimeoutError extends ModuleFailure {}

/**
 * The persistent shell a command was running in died under it (the command killed its own shell,
 * the shell was OOM-killed, ...). The command's outcome is unknown, so it is not retried; the
 * next command gets a fresh shell.
 */
export class SessionDiedError extends ModuleFailure {}
