#!/usr/bin/env node
/**
 * Build step (after tsc, part of `npm run build`): compiles every module's argument schema with
 * ajv ONCE, here, into dist/runner/validators.generated.js, so a run does not load ajv's
 * compiler and generate the same code again at every start (~120 ms of a short run).
 * runner/module-registry.ts uses a precompiled validator only when its schema hash matches the
 * module's schema now, and compiles at run time otherwise (a build without this step, a stale
 * file, modules added by tests).
 */
'use strict';

const fs = require('fs');
const path = require('path');

const dist = path.resolve(__dirname, '..', 'dist');
const Ajv = require('ajv').default;
const standaloneCode = require('ajv/dist/standalone').default;
const { AJV_OPTIONS, schemaHash } = require(path.join(dist, 'runner', 'ajv-options.js'));
const { MODULES } = require(path.join(dist, 'modules', 'index.js'));

const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
const refs = {};
const hashes = {};
for (const m of MODULES) {
  const id = `tsplay:module:${m.name}`;
  ajv.addSchema(m.schema, id);
  refs[m.name] = id;
  hashes[m.name] = schemaHash(m.schema);
}
const code = standaloneCode(ajv, refs);
const out = path.join(dist, 'runner', 'validators.generated.js');
const tmp = `${out}.tmp-${process.pid}`;
fs.writeFileSync(tmp, `${code}\nexports.__schemaHashes = ${JSON.stringify(hashes)};\n`);
fs.renameSync(tmp, out);
process.stdout.write(`gen-validators: ${MODULES.length} module validators in ${path.relative(process.cwd(), out)}\n`);
