// Builds dist/ when a source file is newer than it, so tests that run the real CLI never run
// stale code (npm test builds first anyway; this covers `npx jest` during development).
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

function newest(dir) {
  let t = 0;
  if (!fs.existsSync(dir)) return t;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, fs.statSync(p).mtimeMs);
  }
  return t;
}

module.exports = async function () {
  const root = path.resolve(__dirname, '..');
  const cli = path.join(root, 'dist', 'runner', 'cli.js');
  const validators = path.join(root, 'dist', 'runner', 'validators.generated.js');
  const built = fs.existsSync(cli) && fs.existsSync(validators) ? Math.min(fs.statSync(cli).mtimeMs, fs.statSync(validators).mtimeMs) : 0;
  if (Math.max(newest(path.join(root, 'runner')), newest(path.join(root, 'modules'))) > built) {
    try {
      // the same steps as `npm run build`
      execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
      execFileSync(process.execPath, [path.join(root, 'scripts', 'gen-validators.js')], { stdio: 'inherit' });
      fs.utimesSync(cli, new Date(), new Date());
    } catch (e) {
      // unit tests of single files still run; the CLI tests will fail on the stale/missing build
      process.stderr.write(`global-setup: the build failed; tests that run the CLI will fail (${e.message})\n`);
    }
  }
};
