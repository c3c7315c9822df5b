/**
 * The one set of ajv options for module arguments, shared by the runtime compiler
 * (runner/module-registry.ts) and the build step that precompiles every module's validator
 * (scripts/gen-validators.js), so both validate alike.
 */

import { createHash } from 'crypto';

// validateSchema: false skips checking each module schema against JSON Schema's meta-schema at
// compile time (the schemas are code in this repo; test/runner/module-registry.test.ts checks
// them all instead).
export const AJV_OPTIONS = { useDefaults: true, allErrors: true, coerceTypes: true, strict: false, validateSchema: false } as const;

/** What a precompiled validator was built from: a stale one (schema changed since) is not used. */
export function schemaHash(schema: unknown): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 16);
}
