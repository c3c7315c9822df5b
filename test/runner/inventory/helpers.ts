import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { TsplayError } from '../../../runner/errors';
import { Inventory, InventoryOptions } from '../../../runner/inventory';

const made: string[] = [];

/** Write `files` (relative path -> content) under a fresh temp dir and return the dir. */
export function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsplay-inv-'));
  made.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    const full = path.join(dir, rel);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return dir;
}

afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Load one inventory file given as text, named `name` in a temp dir (plus other files). */
export async function loadText(name: string, text: string, others: Record<string, string> = {}, opts?: InventoryOptions): Promise<Inventory> {
  const dir = tree({ [name]: text, ...others });
  return Inventory.load([path.join(dir, name)], opts);
}

/** The error a promise rejects with, as "file-basename:line:col: message" (plus hint). */
export async function failure(p: Promise<unknown> | (() => unknown)): Promise<{ where: string; message: string; hint?: string; error: TsplayError }> {
  try {
    if (typeof p === 'function') p();
    else await p;
  } catch (e) {
    if (!(e instanceof TsplayError)) throw e;
    const loc = e.location;
    const where = loc ? [path.basename(loc.file), loc.line, loc.column].filter((x) => x !== undefined).join(':') : '';
    return { where, message: e.message, hint: e.hint, error: e };
  }
  throw new Error('expected an error, got none');
}
