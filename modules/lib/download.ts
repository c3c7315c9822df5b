/**
 * Downloads made ON THE HOST for get_url (and the checksum files it reads): curl when the host
 * has it, else python3's urllib, chosen once per task from what `command -v` finds.
 *
 * Nothing the user gave reaches a command line: curl reads its whole request (URL, headers,
 * credentials) as a config on stdin (`curl -K -`), python3 reads it as JSON on stdin. So no
 * quoting can go wrong, and no password or Authorization header is visible in `ps`.
 *
 * Not a module: a helper for modules, importing only the module contract.
 */

import { ModuleFailure, quote, sh, type ExecResult } from '../../runner/module-api';

export type Tool = 'curl' | 'python3';

export interface DownloadRequest {
  url: string;
  headers: Record<string, string>;
  timeout: number;
  validateCerts: boolean;
  username?: string;
  password?: string;
}

/** Checksum algorithms the host has a coreutils program for (`<algo>sum`). */
export const ALGORITHMS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/** One query: which downloader the host has (curl preferred, as it streams to a file). */
export const TOOL_QUERY = 'for t in curl python3; do if command -v "$t" >/dev/null 2>&1; then echo "$t"; exit 0; fi; done; exit 127';

export function parseTool(r: ExecResult, host: string): Tool {
  const t = r.stdout.trim();
  if (r.rc === 0 && (t === 'curl' || t === 'python3')) return t;
  throw new ModuleFailure(`${host}: get_url needs curl or python3 on the host; neither was found`, { rc: r.rc });
}

/** Header names and values that cannot smuggle a second header or config line. */
export function checkHeaders(h: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) {
    const val = String(v);
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) throw new ModuleFailure(`header name ${JSON.stringify(k)} is not a valid HTTP header name`);
    if (/[\r\n\0]/.test(val)) throw new ModuleFailure(`header ${k}: the value contains a line break or NUL`);
    out[k] = val;
  }
  return out;
}

/** A URL fit for messages: a password in its user part is masked. */
export function displayUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:********@');
}

/** A value as a double-quoted curl config string (curl's escapes: \\ \" \t \n \r \v). */
function cq(s: string): string {
  if (s.includes('\0')) throw new ModuleFailure('a download argument contains a NUL byte');
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\v/g, '\\v')}"`;
}

/** Where the response goes: nowhere (HEAD: the status only), ./body + ./headers, or stdout (a small checksum file). */
type Sink = 'head' | 'file' | 'stdout';

export function curlConfig(q: DownloadRequest, sink: Sink): string {
  const lines = [
    `url = ${cq(q.url)}`,
    'globoff',
    'silent',
    'show-error',
    'location',
    `connect-timeout = ${q.timeout}`,
    // Ansible's timeout is a socket timeout: give up when nothing arrives for that long, not after it in all
    'speed-limit = 1',
    `speed-time = ${Math.max(1, Math.ceil(q.timeout))}`,
  ];
  if (sink === 'head') lines.push('head', 'output = "/dev/null"');
  else if (sink === 'file') lines.push('output = "./body"', 'dump-header = "./headers"');
  // stdout is the file itself: an HTTP error is curl's rc 22, not a body to parse
  else lines.push('fail');
  for (const [k, v] of Object.entries(q.headers)) lines.push(`header = ${cq(`${k}: ${v}`)}`);
  if (q.username !== undefined) lines.push(`user = ${cq(`${q.username}:${q.password ?? ''}`)}`);
  if (!q.validateCerts) lines.push('insecure');
  if (sink !== 'stdout') lines.push(`write-out = ${cq('status %{http_code} %{url_effective}\n')}`);
  return lines.join('\n') + '\n';
}

const PY = [
  'import base64, json, shutil, ssl, sys, urllib.error, urllib.request',
  'q = json.load(sys.stdin)',
  'hs = []',
  "if not q['validate_certs']:",
  '    c = ssl.create_default_context(); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE',
  '    hs.append(urllib.request.HTTPSHandler(context=c))',
  "h = dict(q['headers'])",
  "if q.get('user') is not None:",
  "    h['Authorization'] = 'Basic ' + base64.b64encode(q['user'].encode()).decode()",
  "r = urllib.request.Request(q['url'], method=q['method'], headers=h)",
  'try:',
  "    resp = urllib.request.build_opener(*hs).open(r, timeout=q['timeout'])",
  'except urllib.error.HTTPError as e:',
  '    resp = e',
  'except Exception as e:',
  "    sys.stderr.write('python3 urllib: %s\\n' % e); sys.exit(7)",
  "code = getattr(resp, 'status', None) or getattr(resp, 'code', None) or 0",
  "if q['sink'] == 'stdout':",
  '    if code not in (0, 200): sys.stderr.write("python3 urllib: HTTP status %d\\n" % code); sys.exit(22)',
  '    shutil.copyfileobj(resp, sys.stdout.buffer); sys.exit(0)',
  "if q['sink'] == 'file':",
  "    with open('./body', 'wb') as f: shutil.copyfileobj(resp, f)",
  "    with open('./headers', 'w') as f: f.write(''.join('%s: %s\\r\\n' % kv for kv in resp.headers.items()))",
  "sys.stdout.write('status %d %s\\n' % (code, resp.geturl()))",
].join('\n');

const PY_COMMAND = `exec python3 -c ${quote(PY)}`;

function pythonRequest(q: DownloadRequest, sink: Sink): string {
  const user = q.username !== undefined ? `${q.username}:${q.password ?? ''}` : null;
  const method = sink === 'head' ? 'HEAD' : 'GET';
  return JSON.stringify({ url: q.url, method, sink, headers: q.headers, timeout: q.timeout, validate_certs: q.validateCerts, user });
}

function oneShot(tool: Tool, q: DownloadRequest, sink: Sink): { cmd: string; stdin: string } {
  return tool === 'curl' ? { cmd: 'exec curl -K -', stdin: curlConfig(q, sink) } : { cmd: PY_COMMAND, stdin: pythonRequest(q, sink) };
}

/** The command and stdin that ask for the status only (HEAD): a read, fit for plan() in check mode. */
export function headCommand(tool: Tool, q: DownloadRequest): { cmd: string; stdin: string } {
  return oneShot(tool, q, 'head');
}

/** The command and stdin that print a small file (a checksum list) to stdout: a read too. */
export function catCommand(tool: Tool, q: DownloadRequest): { cmd: string; stdin: string } {
  return oneShot(tool, q, 'stdout');
}

/**
 * The download: a private directory (umask 077, mktemp) holds ./body and ./headers; the output is
 * `status CODE URL`, the sums of the body, then `dir PATH` and the response headers. A failed
 * transfer removes the directory itself; otherwise the caller reads ./body and removes it.
 */
export function downloadCommand(tool: Tool, q: DownloadRequest, opts: { tmpDir?: string; algorithm?: Algorithm }): { cmd: string; stdin: string } {
  const mk = opts.tmpDir !== undefined ? sh`mktemp -d -p ${opts.tmpDir} tsplay-get_url.XXXXXXXX` : 'mktemp -d -t tsplay-get_url.XXXXXXXX';
  const run = tool === 'curl' ? 'curl -K -' : `python3 -c ${quote(PY)}`;
  const sums = ['sha256', 'sha1', ...(opts.algorithm && opts.algorithm !== 'sha256' && opts.algorithm !== 'sha1' ? [opts.algorithm] : [])];
  const cmd = [
    'umask 077',
    `d=$(${mk}) || { echo 'get_url: cannot create a temporary directory' >&2; exit 3; }`,
    `cd -P -- "$d" || { rm -rf -- "$d"; exit 3; }`,
    `${run} > ./status; rc=$?`,
    'if [ "$rc" -ne 0 ]; then cd / && rm -rf -- "$d"; exit "$rc"; fi',
    // an empty body may leave no file behind
    ': >> ./body',
    'cat ./status',
    ...sums.map((a) => `printf '${a} '; LC_ALL=C ${a}sum ./body`),
    `printf 'dir %s\\nheaders\\n' "$d"`,
    'cat ./headers 2>/dev/null; exit 0',
  ].join('\n');
  return { cmd, stdin: tool === 'curl' ? curlConfig(q, 'file') : pythonRequest(q, 'file') };
}

export interface Downloaded {
  status: number;
  url: string;
  sums: Record<string, string>;
  dir: string;
  headers: Record<string, string>;
}

/** The status line alone (HEAD). */
export function parseStatus(stdout: string): { status: number; url: string } | undefined {
  const m = /^status (\d+) ?(.*)$/m.exec(stdout);
  return m ? { status: Number(m[1]), url: m[2] } : undefined;
}

export function parseDownload(stdout: string): Downloaded | undefined {
  const at = stdout.indexOf('\nheaders\n');
  const st = parseStatus(stdout);
  if (at < 0 || !st) return undefined;
  const head = stdout.slice(0, at).split('\n');
  const sums: Record<string, string> = {};
  let dir = '';
  for (const l of head) {
    const m = /^(md5|sha\d+) \\?([0-9a-f]+) /.exec(l);
    if (m) sums[m[1]] = m[2];
    if (l.startsWith('dir ')) dir = l.slice(4);
  }
  // with redirects followed there is one header block per response: the last one is the file's
  const blocks = stdout.slice(at + 9).split(/\r?\n(?=HTTP\/)/);
  const headers: Record<string, string> = {};
  for (const line of blocks[blocks.length - 1].split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('HTTP/')) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { ...st, sums, dir, headers };
}

/** The name a URL gives its file (Ansible's url_filename): the last path segment, else index.html. */
export function urlFilename(url: string): string {
  let p = url.replace(/[?#].*$/, '').replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
  try {
    p = decodeURIComponent(p);
  } catch {
    // a stray % stays as written
  }
  const base = p.split('/').pop() ?? '';
  return base === '' ? 'index.html' : base;
}

/** The file name a Content-Disposition header gives, as a bare name (never a path), or undefined. */
export function dispositionFilename(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const m = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(v);
  const name = (m?.[1] ?? m?.[2])?.replace(/\\(.)/g, '$1');
  const base = name?.split('/').pop();
  return base && base !== '.' && base !== '..' ? base : undefined;
}

/**
 * The hash a checksum file gives `filename`: a file of one word is that hash; otherwise lines of
 * `HASH  NAME` (or `HASH *NAME`), the first whose name (leading `./` dropped) is `filename`.
 */
export function hashFromList(text: string, filename: string): string | undefined {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const nonEmpty = lines.filter((l) => l.trim() !== '');
  if (nonEmpty.length === 1 && nonEmpty[0].trim().split(/\s+/).length === 1) return nonEmpty[0].trim();
  for (const l of lines) {
    const i = l.indexOf(' ');
    if (i < 0) continue;
    let name = l.slice(i + 1);
    if (name.startsWith(' ') || name.startsWith('*')) name = name.slice(1);
    if (name.replace(/^[./]+/, '') === filename) return l.slice(0, i);
  }
  return undefined;
}
