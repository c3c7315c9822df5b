/**
 * uri: health endpoints listen on the target (Patroni's REST API on 8008, HAProxy stats on 7000),
 * so the request is made FROM THE TARGET HOST. Its documentation is the defineModule fields below (`tsplay doc uri`).
 *
 * curl reads everything from a config on stdin so that no value reaches a command line: no
 * quoting to get wrong, and no Authorization header in `ps`.
 */

import { defineModule, ModuleFailure, type ExecResult, type ModuleContext, type Probe, type Remote } from '../runner/module-api';

export interface UriArgs {
  url: string;
  method: string;
  body?: unknown;
  body_format?: 'raw' | 'json' | 'form-urlencoded';
  headers?: Record<string, string | number | boolean>;
  status_code: number | number[];
  return_content: boolean;
  timeout: number;
  validate_certs: boolean;
  follow_redirects: boolean;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
const MARK = '__TSPLAY_URI__';
const NO_CURL = '__TSPLAY_NO_CURL__';

export const CURL_COMMAND = `if command -v curl >/dev/null 2>&1; then exec curl -K -; else echo ${NO_CURL}; exit 127; fi`;

const PY = [
  'import json, ssl, sys, time, urllib.error, urllib.request',
  'q = json.load(sys.stdin)',
  'class NoRedirect(urllib.request.HTTPRedirectHandler):',
  '    def redirect_request(self, *a, **k):',
  '        return None',
  'hs = []',
  "if not q['validate_certs']:",
  '    c = ssl.create_default_context(); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE',
  '    hs.append(urllib.request.HTTPSHandler(context=c))',
  "if not q['follow']:",
  '    hs.append(NoRedirect())',
  "d = q['body'].encode() if q['body'] is not None else None",
  "r = urllib.request.Request(q['url'], data=d, method=q['method'], headers=q['headers'])",
  't = time.time()',
  'try:',
  "    resp = urllib.request.build_opener(*hs).open(r, timeout=q['timeout'])",
  'except urllib.error.HTTPError as e:',
  '    resp = e',
  'except Exception as e:',
  "    sys.stderr.write('python3 urllib: %s\\n' % e); sys.exit(7)",
  "b = resp.read() if q['method'] != 'HEAD' else b''",
  'code = getattr(resp, "status", None) or resp.code',
  `sys.stdout.buffer.write(b + ('\\n${MARK} %d %.6f %s %s\\n' % (code, time.time() - t, resp.geturl(), resp.headers.get('Content-Type', ''))).encode())`,
].join('\n');

export const PYTHON_COMMAND = `command -v python3 >/dev/null 2>&1 || { echo 'uri: the host has neither curl nor python3' >&2; exit 127; }; exec python3 -c '${PY.replace(/'/g, `'\\''`)}'`;

/** A value as a double-quoted curl config string (curl's escapes: \\ \" \t \n \r \v). */
function cq(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\v/g, '\\v')}"`;
}

interface Request {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | null;
}

export function buildRequest(a: UriArgs): Request {
  const method = a.method.toUpperCase();
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(a.headers ?? {})) {
    const val = String(v);
    // a CR/LF would let a value inject headers of its own
    if (/[\r\n:]/.test(k) || /[\r\n]/.test(val)) throw new ModuleFailure(`uri: header ${JSON.stringify(k)} contains a line break (or its name a colon)`);
    headers[k] = val;
  }
  const has = (n: string) => Object.keys(headers).some((k) => k.toLowerCase() === n);
  let body: string | null = null;
  if (a.body !== undefined && a.body !== null) {
    const fmt = a.body_format ?? (typeof a.body === 'string' ? 'raw' : 'json');
    if (fmt === 'json') {
      body = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
      if (!has('content-type')) headers['Content-Type'] = 'application/json';
    } else if (fmt === 'form-urlencoded') {
      if (typeof a.body === 'string') body = a.body;
      else body = new URLSearchParams(Object.entries(a.body as Record<string, unknown>).map(([k, v]): [string, string] => [k, String(v)])).toString();
      if (!has('content-type')) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    } else {
      if (typeof a.body !== 'string') throw new ModuleFailure('uri: body_format raw needs a string body');
      body = a.body;
    }
  }
  return { url: a.url, method, headers, body };
}

/** The curl config fed on stdin: the whole request, nothing on the command line. */
export function curlConfig(a: UriArgs, q: Request): string {
  const lines = [`url = ${cq(q.url)}`, 'globoff', 'silent', 'show-error', `max-time = ${a.timeout}`];
  if (q.method === 'HEAD') lines.push('head', 'output = "/dev/null"');
  else if (q.method !== 'GET') lines.push(`request = ${cq(q.method)}`);
  for (const [k, v] of Object.entries(q.headers)) lines.push(`header = ${cq(`${k}: ${v}`)}`);
  // data-raw: a body starting with "@" is text, not a file to read
  if (q.body !== null) lines.push(`data-raw = ${cq(q.body)}`);
  if (!a.validate_certs) lines.push('insecure');
  if (a.follow_redirects) lines.push('location');
  lines.push(`write-out = ${cq(`\n${MARK} %{http_code} %{time_total} %{url_effective} %{content_type}\n`)}`);
  return lines.join('\n') + '\n';
}

export function pythonRequest(a: UriArgs, q: Request): string {
  return JSON.stringify({ ...q, timeout: a.timeout, validate_certs: a.validate_certs, follow: a.follow_redirects });
}

export interface Response {
  status: number;
  elapsed: number;
  url: string;
  content_type: string;
  content: string;
}

export function parseResponse(stdout: string): Response | undefined {
  const i = stdout.lastIndexOf(`\n${MARK} `);
  if (i < 0) return undefined;
  const meta = stdout.slice(i + MARK.length + 2).replace(/\n$/, '');
  const [code, time, url, ...ct] = meta.split(' ');
  return { status: Number(code), elapsed: Number(time), url, content_type: ct.join(' ').trim(), content: stdout.slice(0, i) };
}

type Runner = (cmd: string, stdin: string) => Promise<ExecResult>;

async function perform(a: UriArgs, run: Runner, host: string): Promise<Record<string, unknown>> {
  const q = buildRequest(a);
  let r = await run(CURL_COMMAND, curlConfig(a, q));
  if (r.rc === 127 && r.stdout.includes(NO_CURL)) r = await run(PYTHON_COMMAND, pythonRequest(a, q));
  const res = parseResponse(r.stdout);
  const accepted = Array.isArray(a.status_code) ? a.status_code : [a.status_code];
  if (r.rc !== 0 || !res || res.status === 0) {
    const why = r.stderr.trim().split('\n').pop() || `rc=${r.rc}`;
    throw new ModuleFailure(`${q.method} ${a.url} from ${host}: request failed: ${why}`, { status: -1, url: a.url, rc: r.rc, stderr: r.stderr });
  }
  const result: Record<string, unknown> = { status: res.status, url: res.url || a.url, elapsed: res.elapsed, content_type: res.content_type };
  if (a.return_content) result.content = res.content;
  if (/json/i.test(res.content_type) && res.content.trim()) {
    try {
      result.json = JSON.parse(res.content);
    } catch {
      // a JSON content type with a body that is not JSON: leave `json` out
    }
  }
  if (!accepted.includes(res.status)) {
    const excerpt = res.content.length > 300 ? `${res.content.slice(0, 300)}...` : res.content;
    throw new ModuleFailure(`${q.method} ${a.url} returned status ${res.status} (expected ${accepted.join(' or ')})${excerpt.trim() ? `: ${excerpt.trim()}` : ''}`, {
      ...result,
      content: a.return_content ? res.content : excerpt,
    });
  }
  return result;
}

const STATUS = { type: 'integer', minimum: 100, maximum: 599 };

export default defineModule<UriArgs>({
  name: 'uri',
  description: 'HTTP request from the target host (curl, else python3) with a status check',
  notes: [
    'One command on the host. curl (present on Debian and RHEL) reads EVERYTHING (url, headers,',
    'body) from a config on stdin (`curl -K -`). If the host has no curl, a second command runs',
    'python3\'s urllib with the request as JSON on stdin.',
    'GET/HEAD/OPTIONS are reads: the request runs during planning (also in check mode) and never',
    'reports "changed". Any other method reports changed; in check mode it is NOT sent and the task',
    'shows "changed (would POST ...)".',
    'A status not in status_code fails the task with the status and a body excerpt; the result',
    'still has `status`, so `until: result.status == 200` with retries works. A connection',
    'failure gives status -1.',
  ].join('\n'),
  returns: '{ status, url, elapsed, content_type, content (if return_content), json (if JSON) }',
  example: [
    '- name: wait for the Patroni leader',
    '  uri:',
    '    url: "http://127.0.0.1:8008/primary"',
    '    status_code: 200',
    '  register: leader',
    '  until: leader.status == 200',
    '  retries: 30',
    '  delay: 2',
  ].join('\n'),
  checkMode: 'GET/HEAD/OPTIONS run as usual (read-only, never changed); other methods are not sent and are reported as changed.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['url'],
    properties: {
      url: { type: 'string', pattern: '^https?://', description: 'http:// or https:// URL, requested from the target host' },
      method: {
        type: 'string',
        pattern: '^(GET|HEAD|OPTIONS|POST|PUT|PATCH|DELETE|get|head|options|post|put|patch|delete)$',
        default: 'GET',
        description: 'HTTP method; anything but GET/HEAD/OPTIONS reports changed',
      },
      body: { description: 'request body: a string, or an object/list sent as JSON' },
      body_format: { type: 'string', enum: ['raw', 'json', 'form-urlencoded'], description: 'raw (default for strings), json (default for objects), form-urlencoded' },
      headers: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] }, description: 'request headers, {name: value}' },
      status_code: {
        anyOf: [STATUS, { type: 'array', minItems: 1, items: STATUS }],
        default: [200],
        description: 'accepted status code(s); another status fails the task',
      },
      return_content: { type: 'boolean', default: false, description: 'return the body as `content` (JSON bodies are always parsed into `json`)' },
      timeout: { type: 'number', exclusiveMinimum: 0, default: 30, description: 'seconds for the whole request' },
      validate_certs: { type: 'boolean', default: true, description: 'verify TLS certificates' },
      follow_redirects: { type: 'boolean', default: true, description: 'follow 3xx redirects' },
    },
  },

  async plan(a, ctx) {
    const method = a.method.toUpperCase();
    if (SAFE.has(method)) {
      const remote: Probe = ctx.remote;
      const result = await perform(a, (cmd, stdin) => remote.query(cmd, { stdin, timeoutMs: a.timeout * 1000 + 10000 }), ctx.host);
      return { changes: [], result };
    }
    const q = buildRequest(a);
    return {
      changes: [{ kind: 'exec', summary: `${method} ${a.url}`, command: CURL_COMMAND, opts: { stdin: curlConfig(a, q) } }],
      result: { url: a.url },
    };
  },

  async apply(a, _plan, ctx: ModuleContext<Remote>) {
    const remote = ctx.remote;
    return perform(a, (cmd, stdin) => remote.exec(cmd, { stdin, timeoutMs: a.timeout * 1000 + 10000 }), ctx.host);
  },
});
