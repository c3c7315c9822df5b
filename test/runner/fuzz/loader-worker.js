/**
 * Runs fuzz cases for loaders.fuzz.test.ts in a worker thread, so that a case that never
 * returns (a synchronous loop in a parser or a regex) can be stopped by the test's watchdog:
 * a synchronous hang cannot be timed out from the same thread. It loads the BUILT runner
 * (dist/, rebuilt from the sources by the jest global setup when they are newer).
 *
 * Protocol: receives { dist, dir, cases }; posts { type: 'start', i } before each case and
 * { type: 'done', i, outcome } after it, then { type: 'end', touched }.
 */
const { parentPort, workerData } = require('worker_threads');
const fs = require('fs');
const path = require('path');
const net = require('net');
const childProcess = require('child_process');

const { dist, dir, cases } = workerData;

// "no host touched": any socket connect or process spawn during a load is recorded and refused
const touched = [];
const refuse = (what) => function () {
  touched.push(what);
  throw new Error(`fuzz: ${what} called while loading`);
};
net.Socket.prototype.connect = refuse('net.Socket.connect');
for (const fn of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) childProcess[fn] = refuse(`child_process.${fn}`);

const { TsplayError, MultiError } = require(path.join(dist, 'runner/errors'));
const { Loader } = require(path.join(dist, 'runner/loader/index'));
const { ModuleRegistry } = require(path.join(dist, 'runner/module-registry'));
const { Inventory } = require(path.join(dist, 'runner/inventory/index'));
const { Templar } = require(path.join(dist, 'runner/templating/index'));

const modules = new ModuleRegistry();
const templar = new Templar();

/** What is on disk under each root: a case rewrites only the files that differ (most cases change one). */
const onDisk = new Map();

function writeTree(root, files) {
  let known = onDisk.get(root);
  if (!known) {
    fs.rmSync(root, { recursive: true, force: true });
    known = new Map();
    onDisk.set(root, known);
  }
  for (const [rel, text] of Object.entries(files)) {
    if (known.get(rel) === text) continue;
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
    known.set(rel, text);
  }
  for (const rel of known.keys()) {
    if (!(rel in files)) throw new Error(`fuzz: ${rel} is not part of every case of ${root}`);
  }
}

/** What a thrown value is: a TsplayError (each with its location), or anything else. */
function describeThrown(e) {
  if (e instanceof TsplayError) {
    const list = e instanceof MultiError ? e.errors : [e];
    return {
      kind: 'tsplay',
      errors: list.map((x) => ({
        name: x.name,
        tsplay: x instanceof TsplayError,
        message: String(x.message).slice(0, 500),
        location: x.location ? { file: x.location.file, line: x.location.line, column: x.location.column } : null,
      })),
    };
  }
  return { kind: 'other', name: e && e.name, stack: String((e && e.stack) || e).slice(0, 4000) };
}

async function runCase(c) {
  const root = path.join(dir, c.kind);
  try {
    switch (c.kind) {
      case 'playbook': {
        writeTree(root, c.files);
        await new Loader({ modules }).loadPlaybook(path.join(root, c.entry));
        break;
      }
      case 'ini-inventory':
      case 'yaml-inventory': {
        writeTree(root, c.files);
        const inv = await Inventory.load([path.join(root, c.entry)]);
        // the lazily computed parts: every host's variables and the group graph
        for (const h of inv.hostNames()) inv.hostVars(h);
        inv.toListJSON();
        break;
      }
      case 'template':
        await templar.renderString(c.text, c.vars, { file: 'fuzz.j2', line: 1, column: 1 });
        break;
      case 'condition':
        await templar.evaluate(c.text, c.vars, { file: 'fuzz.yml', line: 3, column: 11 });
        break;
      default:
        throw new Error(`unknown case kind ${c.kind}`);
    }
    return { kind: 'ok' };
  } catch (e) {
    return describeThrown(e);
  }
}

(async () => {
  for (const c of cases) {
    parentPort.postMessage({ type: 'start', i: c.i });
    const outcome = await runCase(c);
    parentPort.postMessage({ type: 'done', i: c.i, outcome });
  }
  parentPort.postMessage({ type: 'end', touched });
})().catch((e) => parentPort.postMessage({ type: 'crash', stack: String((e && e.stack) || e) }));
