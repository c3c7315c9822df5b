// The controller side of write-kill.test.ts: the real SshConnection + createRemote().writeFile
// from the build (dist/), in a process of its own so that the test can SIGKILL it mid-write.
// argv: <connection spec JSON> <target path> <file holding the bytes to write>
'use strict';
const fs = require('fs');
const path = require('path');
const dist = path.resolve(__dirname, '../../../dist/runner/connection');
const { SshConnection } = require(path.join(dist, 'ssh.js'));
const { createRemote } = require(path.join(dist, 'remote.js'));

async function main() {
  const [spec, target, dataFile] = process.argv.slice(2);
  const data = fs.readFileSync(dataFile);
  const conn = new SshConnection(JSON.parse(spec));
  await conn.exec('true'); // connected, shell started: what is left is the write itself
  process.stdout.write('ready\n');
  await createRemote(conn).writeFile(target, data, { mode: '0640' });
  process.stdout.write('done\n');
  await conn.close();
}
main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
