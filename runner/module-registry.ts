/**
 * The runner's only view of the modules (through modules/index.ts): lookup, argument
 * validation with ajv (defaults applied, Ansible-style booleans accepted), and the
 * ModuleCatalog the loader uses for static validation.
 */

import type { default as AjvClass, ErrorObject, ValidateFunction } from 'ajv';
import { getModule, MODULES } from '../modules/index';
import { AJV_OPTIONS, schemaHash } from './ajv-options';
import { parseBoolean } from './booleans';
import type { ModuleCatalog } from './loader/types';
import type { TsplayModule } from './module-api';


export interface ArgProblem {
  path: string;
  message: string;
}

function hasTemplate(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('{{') || v.includes('{%');
  if (Array.isArray(v)) return v.some(hasTemplate);
  if (v && typeof v === 'object') return Object.values(v).some(hasTemplate);
  return false;
}

function describeError(e: ErrorObject): ArgProblem {
  const path = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  switch (e.keyword) {
    case 'additionalProperties':
      return { path: path ? `${path}.${e.params.additionalProperty}` : String(e.params.additionalProperty), message: `unsupported argument '${e.params.additionalProperty}'` };
    case 'required':
      return { path, message: `missing required argument '${e.params.missingProperty}'` };
    case 'enum':
      return { path, message: `must be one of: ${(e.params.allowedValues as unknown[]).join(', ')}` };
    case 'type':
      return { path, message: `must be of type ${e.params.type}` };
    case 'propertyNames':
      return { path, message: `'${String(e.params.propertyName)}' is not a valid name here` };
    case 'anyOf':
    case 'oneOf':
      return { path, message: 'does not match any accepted form (see tsplay doc)' };
    default:
      return { path, message: e.message ?? 'is invalid' };
  }
}

type Precompiled = Record<string, ValidateFunction | undefined> & { __schemaHashes?: Record<string, string> };
let precompiled: Precompiled | null | undefined;

/** The build's validator for this module (scripts/gen-validators.js), if it was built from this very schema. */
export function precompiledValidator(m: TsplayModule): ValidateFunction | undefined {
  if (precompiled === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      precompiled = require('./validators.generated') as Precompiled;
    } catch {
      precompiled = null; // not built (ts-jest runs the sources, or a bare tsc build)
    }
  }
  const v = precompiled?.[m.name];
  return v && precompiled?.__schemaHashes?.[m.name] === schemaHash(m.schema) ? v : undefined;
}

export class ModuleRegistry implements ModuleCatalog {
  // ajv's compiler (and ajv itself) is loaded only when a module has no precompiled validator
  private ajv: AjvClass | undefined;
  private readonly validators = new Map<string, ValidateFunction>();

  get(name: string): TsplayModule | undefined {
    return getModule(name);
  }

  has(name: string): boolean {
    return getModule(name) !== undefined;
  }

  names(): string[] {
    return MODULES.map((m) => m.name).sort();
  }

  all(): TsplayModule[] {
    return [...MODULES].sort((a, b) => a.name.localeCompare(b.name));
  }

  freeForm(name: string): string | undefined {
    return getModule(name)?.freeForm;
  }

  private validator(m: TsplayModule): ValidateFunction {
    let v = this.validators.get(m.name);
    if (!v) {
      v = precompiledValidator(m);
      if (!v) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        this.ajv ??= new (require('ajv') as typeof import('ajv')).default(AJV_OPTIONS);
        v = this.ajv.compile(m.schema);
      }
      this.validators.set(m.name, v);
    }
    return v;
  }

  /** Ansible writes booleans as yes/no/on/off: normalise top-level boolean args before ajv. */
  private normalise(m: TsplayModule, args: Record<string, unknown>): Record<string, unknown> {
    const props = (m.schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
    const out: Record<string, unknown> = { ...args };
    for (const [k, v] of Object.entries(out)) {
      const t = props[k]?.type;
      const wantsBool = t === 'boolean' || (Array.isArray(t) && t.includes('boolean') && !t.includes('string'));
      // anything else is left for ajv to reject as "must be of type boolean"
      const b = wantsBool && typeof v === 'string' ? parseBoolean(v) : undefined;
      if (b !== undefined) out[k] = b;
    }
    return out;
  }

  /** Validate rendered args; returns the args with defaults applied, or the problems. */
  validate(name: string, args: Record<string, unknown>): { args: Record<string, unknown>; problems: ArgProblem[] } {
    const m = getModule(name);
    if (!m) return { args, problems: [{ path: '', message: `unknown module '${name}'` }] };
    const copy = structuredClone(this.normalise(m, args));
    const v = this.validator(m);
    if (v(copy)) return { args: copy, problems: [] };
    // an anyOf/oneOf failure reports each branch's errors too: keep only the summary line
    const errs = (v.errors ?? []).filter((e) => !/\/(anyOf|oneOf)\/\d+\//.test(e.schemaPath));
    // a bad property name also fails its pattern: the propertyNames error alone says it better
    const problems = errs.filter((e) => e.propertyName === undefined || e.keyword === 'propertyNames').map(describeError).filter((p, i, a) => a.findIndex((q) => q.path === p.path && q.message === p.message) === i);
    return { args: copy, problems };
  }

  validateStatic(name: string, args: Record<string, unknown>): ArgProblem[] {
    const templated = new Set(Object.keys(args).filter((k) => hasTemplate(args[k])));
    const { problems } = this.validate(name, args);
    return problems.filter((p) => {
      const top = p.path.split('.')[0];
      return !(top && templated.has(top));
    });
  }
}
