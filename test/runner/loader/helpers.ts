/**
 * Test helpers: a fake module catalog (the real one comes from modules/index.ts) and
 * playbook trees written into a fresh temp directory.
 */

import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { MultiError, TsplayError } from '../../../runner/errors';
import { Loader, type LoaderOptions } from '../../../runner/loader/index';
import type { ModuleCatalog, TaskItem, TaskDef, BlockDef } from '../../../runner/loader/types';

type ArgType = 'string' | 'boolean' | 'number' | 'object' | 'array';
interface FakeModule {
  freeForm?: string;
  props: Record<string, ArgType | { enum: string[] }>;
  required?: string[];
  /** accept any argument (set_fact) */
  open?: boolean;
}

const MODULES: Record<string, FakeModule> = {
  command: { freeForm: 'cmd', props: { cmd: 'string', chdir: 'string', creates: 'string', removes: 'string' } },
  shell: { freeForm: 'cmd', props: { cmd: 'string', chdir: 'string', creates: 'string', removes: 'string', executable: 'string' } },
  copy: { props: { src: 'string', dest: 'string', content: 'string', mode: 'string', backup: 'boolean' }, required: ['dest'] },
  file: { props: { path: 'string', state: { enum: ['file', 'directory', 'absent', 'link', 'touch'] }, mode: 'string' }, required: ['path'] },
  template: { props: { src: 'string', dest: 'string', mode: 'string' }, required: ['src', 'dest'] },
  service: { props: { name: 'string', state: { enum: ['started', 'stopped', 'restarted', 'reloaded'] }, enabled: 'boolean' }, required: ['name'] },
  debug: { props: { msg: 'string', var: 'string' } },
  set_fact: { props: {}, open: true },
  include_vars: { freeForm: 'file', props: { file: 'string', name: 'string' } },
  ping: { props: {} },
  wait_for: { props: { port: 'number', host: 'string', timeout: 'number' } },
  apt: { props: { name: 'array', state: 'string', update_cache: 'boolean' } },
};

function templated(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('{{') || v.includes('{%');
  if (Array.isArray(v)) return v.some(templated);
  if (v && typeof v === 'object') return Object.values(v).some(templated);
  return false;
}

export const fakeCatalog: ModuleCatalog = {
  has: (n) => n in MODULES,
  names: () => Object.keys(MODULES).sort(),
  freeForm: (n) => MODULES[n]?.freeForm,
  validateStatic(name, args) {
    const m = MODULES[name];
    const out: Array<{ path: string; message: string }> = [];
    if (!m) return [{ path: '', message: `unknown module '${name}'` }];
    for (const r of m.required ?? []) if (!(r in args)) out.push({ path: '', message: `missing required argument '${r}'` });
    for (const [k, v] of Object.entries(args)) {
      if (templated(v)) continue;
      const t = m.props[k];
      if (!t) {
        if (!m.open) out.push({ path: k, message: `unsupported argument '${k}'` });
        continue;
      }
      if (typeof t === 'object') {
        if (!t.enum.includes(String(v))) out.push({ path: k, message: `must be one of: ${t.enum.join(', ')}` });
      } else if (t === 'array' ? !Array.isArray(v) : t === 'object' ? typeof v !== 'object' : typeof v !== t) {
        // yes/no strings for booleans are the registry's business; keep the fake strict
        if (!(t === 'boolean' && typeof v === 'string' && /^(yes|no|true|false)$/i.test(v))) out.push({ path: k, message: `must be of type ${t}` });
      }
    }
    return out;
  },
};

/** Strip the common indentation of a template literal so YAML line/column are predictable. */
export function y(text: string): string {
  const lines = text.replace(/^\n/, '').replace(/\n\s*$/, '\n').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

const trees: Tree[] = [];

/** Remove every tree made by the test (some tests make several). */
export function cleanupTrees(): void {
  for (const t of trees.splice(0)) t.cleanup();
}

export class Tree {
  readonly root: string;
  constructor(files: Record<string, string> = {}) {
    this.root = mkdtempSync(path.join(os.tmpdir(), 'tsplay-loader-'));
    trees.push(this);
    this.write(files);
  }
  write(files: Record<string, string>): void {
    for (const [rel, text] of Object.entries(files)) {
      const p = path.join(this.root, rel);
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, text);
    }
  }
  dir(rel: string): void {
    mkdirSync(path.join(this.root, rel), { recursive: true });
  }
  p(rel: string): string {
    return path.join(this.root, rel);
  }
  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

export function loader(opts: Partial<LoaderOptions> = {}): Loader {
  return new Loader({ modules: fakeCatalog, ...opts });
}

/** Load a playbook expecting failure; returns every error's describe() line (without hints). */
export async function loadErrors(file: string, opts: Partial<LoaderOptions> = {}): Promise<TsplayError[]> {
  try {
    await loader(opts).loadPlaybook(file);
  } catch (e) {
    if (e instanceof MultiError) return e.errors;
    if (e instanceof TsplayError) return [e];
    throw e;
  }
  throw new Error(`expected ${file} to fail loading`);
}

/** "file:line:col: message" with the temp root replaced by ROOT, for readable assertions. */
export function lines(errors: TsplayError[], root: string): string[] {
  return errors.map((e) => e.describe().split('\n')[0].split(root).join('ROOT'));
}

export function task(item: TaskItem | undefined): TaskDef {
  if (!item || item.kind !== 'task') throw new Error(`expected a task, got ${item?.kind}`);
  return item;
}

export function block(item: TaskItem | undefined): BlockDef {
  if (!item || item.kind !== 'block') throw new Error(`expected a block, got ${item?.kind}`);
  return item;
}
