#!/usr/bin/env node
// Runs connection-bench.ts without a build: .ts files are transpiled on require (no type check;
// `npx tsc -p tsconfig.test.json` does that). Usage: node test/bench/connection-bench.js
const fs = require('fs');
const ts = require('typescript');
require.extensions['.ts'] = (module, filename) => {
  const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: filename,
  });
  module._compile(out.outputText, filename);
};
require('./connection-bench.ts')
  .main(process.argv.slice(2))
  .catch((e) => {
    process.stderr.write(`${e.stack || e}\n`);
    process.exitCode = 1;
  });
