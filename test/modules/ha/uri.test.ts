import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import uri, { CURL_COMMAND, PYTHON_COMMAND, buildRequest, curlConfig, parseResponse, pythonRequest } from '../../../modules/uri';
import type { ExecOptions, Remote } from '../../../runner/module-api';
import { ModuleFailure } from '../../../runner/module-api';
import { argsOf, FakeHost, HOSTILE, LocalHost, readOnly, runTask, validate } from './fake';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: http.Server;
let base: string;
const seen: Seen[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(s);
      if (req.url === '/status/503') {
        res.writeHead(503, { 'Content-Type': 'text/plain' });
        res.end('replica: not the leader\n');
      } else if (req.url === '/redirect') {
        res.writeHead(302, { Location: '/json' });
        res.end();
      } else if (req.url === '/slow') {
        setTimeout(() => res.end('late'), 3000).unref();
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(s));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});
beforeEach(() => {
  seen.length = 0;
});

/** This machine, with extra environment (e.g. a PATH without curl) on every command. */
function localWith(env: Record<string, string>): Remote & { calls: LocalHost['calls'] } {
  const l = new LocalHost();
  const add = (o?: ExecOptions): ExecOptions => ({ ...o, env: { ...(o?.env ?? {}), ...env } });
  return {
    calls: l.calls,
    query: (c, o) => l.query(c, add(o)),
    exec: (c, o) => l.exec(c, add(o)),
    readFile: (p) => l.readFile(p),
    stat: (p) => l.stat(p),
    writeFile: (p, d, o) => l.writeFile(p, d, o),
  };
}

/** A PATH with python3 and nothing else: no curl (the scripts need only sh builtins besides). */
function noCurlPath(): { dir: string; env: Record<string, string> } {
  const dir = fs.mkdtempSync('/tmp/tsplay-nocurl-');
  fs.symlinkSync('/usr/bin/python3', path.join(dir, 'python3'));
  return { dir, env: { PATH: dir } };
}

describe('uri (real curl on this machine)', () => {
  test('GET: no change, JSON parsed, the command is a constant (everything on stdin)', async () => {
    const h = new LocalHost();
    const r = await runTask(uri, { url: `${base}/json?x=1` }, h);
    expect(r.changed).toBe(false);
    expect(r.result).toMatchObject({ status: 200, url: `${base}/json?x=1`, content_type: 'application/json; charset=utf-8', json: { method: 'GET', url: '/json?x=1' } });
    expect(r.result.content).toBeUndefined();
    expect(r.result.elapsed as number).toBeGreaterThan(0);
    expect(h.calls.map((c) => [c.kind, c.cmd])).toEqual([['query', CURL_COMMAND]]);
    expect(seen).toHaveLength(1);
  });

  test('a status not in status_code fails with the status and a body excerpt; lists work', async () => {
    const err = (await runTask(uri, { url: `${base}/status/503` }, new LocalHost()).catch((e: unknown) => e)) as ModuleFailure;
    expect(err).toBeInstanceOf(ModuleFailure);
    expect(err.message).toBe(`GET ${base}/status/503 returned status 503 (expected 200): replica: not the leader`);
    expect(err.result.status).toBe(503);
    const ok = await runTask(uri, { url: `${base}/status/503`, status_code: [200, 503], return_content: true }, new LocalHost());
    expect(ok.result).toMatchObject({ status: 503, content: 'replica: not the leader\n' });
  });

  test('redirects followed by default, not when told', async () => {
    expect((await runTask(uri, { url: `${base}/redirect` }, new LocalHost())).result).toMatchObject({ status: 200, url: `${base}/json` });
    expect((await runTask(uri, { url: `${base}/redirect`, follow_redirects: false, status_code: 302 }, new LocalHost())).result.status).toBe(302);
  });

  test('connection refused and timeout: status -1, a clear failure', async () => {
    const tmp = net.createServer();
    await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
    const closed = (tmp.address() as net.AddressInfo).port;
    await new Promise<void>((r) => tmp.close(() => r()));
    const err = (await runTask(uri, { url: `http://127.0.0.1:${closed}/` }, new LocalHost()).catch((e: unknown) => e)) as ModuleFailure;
    expect(err.message).toMatch(new RegExp(`GET http://127.0.0.1:${closed}/ from db1: request failed: curl: \\(7\\)`));
    expect(err.result.status).toBe(-1);
    const slow = (await runTask(uri, { url: `${base}/slow`, timeout: 0.5 }, new LocalHost()).catch((e: unknown) => e)) as ModuleFailure;
    expect(slow.message).toMatch(/request failed: curl: \(28\)/);
  });

  test('POST: a change; check mode does not send it; apply does, with a JSON body', async () => {
    const args = { url: `${base}/cluster/switchover`, method: 'POST', body: { leader: 'db1', candidate: 'db2' }, status_code: 200 };
    const ro = readOnly(new LocalHost());
    const c = await runTask(uri, args, ro, { check: true });
    expect(c.changed).toBe(true);
    expect(c.plan.changes[0]).toMatchObject({ kind: 'exec', summary: `POST ${base}/cluster/switchover`, command: CURL_COMMAND });
    expect(seen).toHaveLength(0);
    expect(ro.violations).toEqual([]);

    const r = await runTask(uri, args, new LocalHost());
    expect(r.changed).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', body: '{"leader":"db1","candidate":"db2"}' });
    expect(seen[0].headers['content-type']).toBe('application/json');
  });

  test('hostile header values, body and query reach the server byte for byte, through stdin', async () => {
    const bad = HOSTILE.join(' ').replace(/\n/g, ' ');
    const body = `${HOSTILE.join('\n')}\n\\ backslash \\" @/etc/passwd`;
    const q = encodeURIComponent(HOSTILE.join('|'));
    const h = new LocalHost();
    const r = await runTask(uri, { url: `${base}/echo?q=${q}`, method: 'PUT', headers: { 'X-Bad': bad, Authorization: 'Bearer s3cr3t' }, body, body_format: 'raw' }, h);
    expect(r.changed).toBe(true);
    expect(seen[0]).toMatchObject({ method: 'PUT', url: `/echo?q=${q}`, body });
    expect(seen[0].headers['x-bad']).toBe(bad);
    expect(h.calls.every((c) => c.cmd === CURL_COMMAND)).toBe(true);
    expect(JSON.stringify(r.plan.changes.map((c) => ({ ...c, opts: undefined })))).not.toContain('s3cr3t');
    expect(fs.existsSync('/tmp/pwned')).toBe(false);
  });

  test('a header with a line break is refused (header injection)', async () => {
    await expect(runTask(uri, { url: `${base}/`, headers: { 'X-A': 'a\r\nX-Injected: 1' } }, new LocalHost())).rejects.toThrow('contains a line break');
    expect(seen).toHaveLength(0);
  });

  test('HEAD and form bodies', async () => {
    expect((await runTask(uri, { url: `${base}/json`, method: 'HEAD' }, new LocalHost())).result.status).toBe(200);
    expect(seen[0].method).toBe('HEAD');
    await runTask(uri, { url: `${base}/form`, method: 'post', body: { a: 'x y', b: '&=' }, body_format: 'form-urlencoded' }, new LocalHost());
    expect(seen[1]).toMatchObject({ method: 'POST', body: 'a=x+y&b=%26%3D' });
    expect(seen[1].headers['content-type']).toBe('application/x-www-form-urlencoded');
  });
});

describe('uri (python3 fallback when the host has no curl)', () => {
  let nc: { dir: string; env: Record<string, string> };
  beforeAll(() => {
    nc = noCurlPath();
  });
  afterAll(() => fs.rmSync(nc.dir, { recursive: true, force: true }));

  test('GET through python3 urllib after curl is found missing', async () => {
    const h = localWith(nc.env);
    const r = await runTask(uri, { url: `${base}/json`, return_content: true }, h);
    expect(h.calls.map((c) => c.cmd)).toEqual([CURL_COMMAND, PYTHON_COMMAND]);
    expect(r.result).toMatchObject({ status: 200, json: { method: 'GET', url: '/json' } });
  });

  test('status check, redirects, POST body and hostile headers through python3', async () => {
    await expect(runTask(uri, { url: `${base}/status/503` }, localWith(nc.env))).rejects.toThrow('returned status 503 (expected 200): replica: not the leader');
    expect((await runTask(uri, { url: `${base}/redirect`, follow_redirects: false, status_code: 302 }, localWith(nc.env))).result.status).toBe(302);
    const bad = HOSTILE.join(' ').replace(/\n/g, ' ');
    await runTask(uri, { url: `${base}/p`, method: 'POST', body: { x: bad }, headers: { 'X-Bad': bad } }, localWith(nc.env));
    const post = seen.find((s) => s.url === '/p')!;
    expect(post.body).toBe(JSON.stringify({ x: bad }));
    expect(post.headers['x-bad']).toBe(bad);
    await expect(runTask(uri, { url: 'http://127.0.0.1:1/' }, localWith(nc.env))).rejects.toThrow(/request failed: python3 urllib: .*Connection refused/);
  });
});

describe('uri (fake host)', () => {
  test('the config carries everything; parseResponse splits body and meta', () => {
    const a = argsOf(uri, { url: 'https://h/x', method: 'DELETE', headers: { A: 'q"\\' }, body: 'b\nc', validate_certs: false, timeout: 5 });
    const cfg = curlConfig(a, buildRequest(a));
    expect(cfg).toBe(
      [
        'url = "https://h/x"',
        'globoff',
        'silent',
        'show-error',
        'max-time = 5',
        'request = "DELETE"',
        'header = "A: q\\"\\\\"',
        'data-raw = "b\\nc"',
        'insecure',
        'location',
        'write-out = "\\n__TSPLAY_URI__ %{http_code} %{time_total} %{url_effective} %{content_type}\\n"',
        '',
      ].join('\n'),
    );
    expect(JSON.parse(pythonRequest(a, buildRequest(a)))).toEqual({ url: 'https://h/x', method: 'DELETE', headers: { A: 'q"\\' }, body: 'b\nc', timeout: 5, validate_certs: false, follow: true });
    expect(parseResponse('line1\n__TSPLAY_URI__ x\nend\n__TSPLAY_URI__ 201 0.5 http://h/ text/plain; charset=x\n')).toEqual({
      status: 201,
      elapsed: 0.5,
      url: 'http://h/',
      content_type: 'text/plain; charset=x',
      content: 'line1\n__TSPLAY_URI__ x\nend',
    });
  });

  test('no change for GET even when the host answers; neither curl nor python3 is a clear failure', async () => {
    const h = new FakeHost().onQuery(CURL_COMMAND, { rc: 127, stdout: '__TSPLAY_NO_CURL__\n' }).onQuery(PYTHON_COMMAND, { rc: 127, stderr: 'uri: the host has neither curl nor python3\n' });
    await expect(runTask(uri, { url: 'http://x/' }, h)).rejects.toThrow('request failed: uri: the host has neither curl nor python3');
  });

  test('bad arguments', () => {
    expect(validate(uri, {}).valid).toBe(false);
    expect(validate(uri, { url: 'ftp://x' }).valid).toBe(false);
    expect(validate(uri, { url: 'http://x', method: 'FETCH' }).valid).toBe(false);
    expect(validate(uri, { url: 'http://x', status_code: 'ok' }).valid).toBe(false);
    expect(validate(uri, { url: 'http://x', status_code: [200, 99] }).valid).toBe(false);
    expect(validate(uri, { url: 'http://x', headers: { a: { b: 1 } } }).valid).toBe(false);
    expect(validate(uri, { url: 'http://x' }).args).toEqual({ url: 'http://x', method: 'GET', status_code: [200], return_content: false, timeout: 30, validate_certs: true, follow_redirects: true });
  });

  test('check mode for GET: the request runs through query only', async () => {
    const h = new FakeHost().onQuery(CURL_COMMAND, { stdout: '{"a":1}\n__TSPLAY_URI__ 200 0.01 http://x/ application/json\n' });
    const ro = readOnly(h);
    const r = await runTask(uri, { url: 'http://x/' }, ro, { check: true });
    expect(r.result).toMatchObject({ status: 200, json: { a: 1 } });
    expect(ro.violations).toEqual([]);
  });
});
