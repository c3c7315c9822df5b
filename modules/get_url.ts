/**
 * get_url: a file fetched over HTTP(S)/FTP BY THE HOST (as Ansible does), into a private temp
 * directory there, then put in place with Remote.writeFile like any other content, so dest gets
 * the same atomic write, backup and attributes as copy. Its documentation is the defineModule
 * fields below (`tsplay doc get_url`).
 */

import * as path from 'path';
import { applyChanges, defineModule, lastLines, ModuleFailure, sh, type Change, type ModuleContext, type Plan, type Probe, type Remote } from '../runner/module-api';
import { attrChange, ATTR_SCHEMA, idArg, modeArg, type Attrs } from './lib/attrs';
import { missingParent, planContent } from './lib/content';
import {
  ALGORITHMS,
  catCommand,
  checkHeaders,
  dispositionFilename,
  displayUrl,
  downloadCommand,
  hashFromList,
  headCommand,
  parseDownload,
  parseStatus,
  parseTool,
  TOOL_QUERY,
  urlFilename,
  type Algorithm,
  type DownloadRequest,
  type Tool,
} from './lib/download';

export interface GetUrlArgs {
  url: string;
  dest: string;
  checksum?: string;
  force: boolean;
  headers?: Record<string, string | number | boolean>;
  timeout: number;
  url_username?: string;
  url_password?: string;
  validate_certs: boolean;
  backup: boolean;
  tmp_dest?: string;
  owner?: string | number;
  group?: string | number;
  mode?: string | number;
}

const p = path.posix;
const URL_RE = '^(https?|ftp|file)://';

interface Want {
  algorithm: Algorithm;
  hash: string;
}

/** The hash plan() resolved (a checksum URL is read once), for the apply of that same plan. */
const wanted = new WeakMap<object, Want>();

function request(a: GetUrlArgs, url = a.url): DownloadRequest {
  return { url, headers: checkHeaders(a.headers), timeout: a.timeout, validateCerts: a.validate_certs, username: a.url_username, password: a.url_password };
}

/** `algo:hex` or `algo:URL of a checksum file` -> the hash to expect (the list is read from the host). */
async function parseChecksum(a: GetUrlArgs, ctx: ModuleContext<Probe>, tool: () => Promise<Tool>): Promise<Want | undefined> {
  if (!a.checksum) return undefined;
  const i = a.checksum.indexOf(':');
  const algorithm = a.checksum.slice(0, i).toLowerCase() as Algorithm;
  if (i < 0 || !ALGORITHMS.includes(algorithm)) {
    throw new ModuleFailure(`checksum must be <algorithm>:<hash or URL> with algorithm one of ${ALGORITHMS.join(', ')}; got ${JSON.stringify(a.checksum)}`);
  }
  let hash = a.checksum.slice(i + 1);
  if (new RegExp(URL_RE).test(hash)) {
    const listUrl = hash;
    const { cmd, stdin } = catCommand(await tool(), request(a, listUrl));
    const r = await ctx.remote.query(cmd, { stdin, timeoutMs: a.timeout * 1000 + 10000 });
    if (r.rc !== 0) throw new ModuleFailure(`cannot read the checksum file ${displayUrl(listUrl)} from ${ctx.host}: ${lastLines(r.stderr, 3) || `rc=${r.rc}`}`, { rc: r.rc });
    const name = urlFilename(a.url);
    const found = hashFromList(r.stdout, name);
    if (found === undefined) throw new ModuleFailure(`Unable to find a checksum for file '${name}' in '${displayUrl(listUrl)}'`);
    hash = found;
  }
  // as Ansible: anything but letters and digits (a zero-width space pasted with the hash) is dropped
  hash = hash.replace(/[^0-9A-Za-z]+/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(hash)) throw new ModuleFailure('The checksum format is invalid', { checksum: a.checksum });
  return { algorithm, hash };
}

async function digestOf(ctx: ModuleContext<Probe>, file: string, algorithm: Algorithm): Promise<string> {
  // the algorithm is one of ALGORITHMS: a fixed program name, never a user string
  const r = await ctx.remote.query(sh`LC_ALL=C ${`${algorithm}sum`} -- ${file}`);
  if (r.rc !== 0) throw new ModuleFailure(`cannot compute the ${algorithm} of ${file}: ${lastLines(r.stderr, 3)}`, { rc: r.rc });
  return r.stdout.replace(/^\\/, '').slice(0, r.stdout.indexOf(' '));
}

function attrsOf(a: GetUrlArgs): Attrs {
  return { owner: idArg(a.owner), group: idArg(a.group), mode: modeArg(a.mode) };
}

export default defineModule<GetUrlArgs>({
  name: 'get_url',
  description: 'Download a file from HTTP, HTTPS or FTP on the host itself, with checksum, attributes and an atomic replace.',
  notes: [
    'The download runs on the host (curl, else python3: found with one `command -v`), as under',
    'Ansible; the URL, headers and credentials go to curl/python3 on stdin, never on a command line.',
    'It lands in a private directory (mktemp -d, umask 077, in tmp_dest or $TMPDIR//tmp), is checked',
    'against checksum, compared by sha256 with dest, and only when it differs read back and written',
    'with the atomic write copy uses (so a large changed file crosses the connection twice).',
    'force: false (the default) downloads nothing when dest exists, unless checksum is given and',
    'dest does not match it. A dest that is a directory always downloads (the name may come from',
    'Content-Disposition, else from the URL). Credentials are sent as basic auth on the first',
    'request (Ansible waits for a 401 without force_basic_auth). HTTP needs status 200.',
  ].join('\n'),
  returns: '{ dest, url, status_code, checksum_src, checksum_dest (SHA-1), size, elapsed, msg }',
  example: `- get_url:
    url: https://github.com/etcd-io/etcd/releases/download/v3.5.9/etcd-v3.5.9-linux-amd64.tar.gz
    dest: /opt/etcd.tar.gz
    checksum: sha256:https://github.com/etcd-io/etcd/releases/download/v3.5.9/SHA256SUMS
    mode: '0644'`,
  checkMode:
    'With dest present and (force false, or the checksum matching) nothing is downloaded and nothing changes. Otherwise the URL is asked for with HEAD (a non-200 fails) and the task reports changed without downloading.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['url', 'dest'],
    properties: {
      url: { type: 'string', pattern: URL_RE, description: 'http://, https://, ftp:// or file:// URL, fetched by the host.' },
      dest: { type: 'string', minLength: 1, description: 'File to write, or an existing directory to download into (file name from Content-Disposition, else the URL).' },
      checksum: { type: 'string', minLength: 1, description: "'<algorithm>:<hash>' or '<algorithm>:<URL of a checksum file>' (md5, sha1, sha224, sha256, sha384, sha512); the download must match it." },
      force: { type: 'boolean', default: false, description: 'Download even when dest exists (replacing it when the content differs); false: only when dest is missing or does not match checksum.' },
      headers: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] }, description: 'Request headers, {name: value}.' },
      timeout: { type: 'number', exclusiveMinimum: 0, default: 10, description: 'Seconds to wait for the connection, and for data while downloading.' },
      url_username: { type: 'string', description: 'User for HTTP basic authentication.' },
      url_password: { type: 'string', description: 'Password for HTTP basic authentication (never shown).' },
      validate_certs: { type: 'boolean', default: true, description: 'Verify TLS certificates.' },
      backup: { type: 'boolean', default: false, description: 'Keep the replaced file as dest.YYYYMMDD-HHMMSS.' },
      tmp_dest: { type: 'string', pattern: '^/', description: 'Directory on the host for the temporary download (default $TMPDIR, else /tmp).' },
      ...ATTR_SCHEMA,
    },
  },

  async plan(a, ctx) {
    const attrs = attrsOf(a);
    checkHeaders(a.headers);
    let tool: Tool | undefined;
    const findTool = async (): Promise<Tool> => (tool ??= parseTool(await ctx.remote.query(TOOL_QUERY), ctx.host));
    const want = await parseChecksum(a, ctx, findTool);
    const [st, parent] = await ctx.remote.stat([a.dest, p.dirname(a.dest)], { follow: true });
    const isDir = st.exists && st.type === 'directory';
    const result: Record<string, unknown> = { dest: a.dest, url: displayUrl(a.url) };

    if (st.exists && !isDir) {
      if (st.type !== 'file') throw new ModuleFailure(`${a.dest} exists and is not a regular file`, { dest: a.dest });
      const matches = want ? (await digestOf(ctx, a.dest, want.algorithm)) === want.hash : undefined;
      if (!a.force && matches !== false) {
        const c = attrChange(a.dest, st, attrs);
        return { changes: c ? [c] : [], result, msg: c ? 'file already exists but file attributes changed' : 'file already exists' };
      }
    }
    const note = st.exists ? undefined : missingParent(ctx, parent, a.dest);

    const t = await findTool();
    if (ctx.check) {
      // what Ansible does in check mode: ask with HEAD, so a wrong URL fails the dry run too
      const { cmd, stdin } = headCommand(t, request(a));
      const r = await ctx.remote.query(cmd, { stdin, timeoutMs: a.timeout * 1000 + 10000 });
      const s = parseStatus(r.stdout);
      if (r.rc !== 0 || !s || (s.status !== 200 && /^https?:/.test(a.url))) {
        throw new ModuleFailure(`Request failed: HEAD ${displayUrl(a.url)} from ${ctx.host}: ${s ? `status ${s.status}` : lastLines(r.stderr, 3) || `rc=${r.rc}`}`, { status_code: s?.status ?? -1, url: displayUrl(a.url) });
      }
      result.status_code = s.status;
    }
    const { cmd, stdin } = downloadCommand(t, request(a), { tmpDir: a.tmp_dest, algorithm: want?.algorithm });
    const change: Change = {
      kind: 'exec',
      summary: `download ${displayUrl(a.url)} to ${a.dest}`,
      command: cmd,
      opts: { stdin },
      diff: { path: a.dest, before: st.exists ? `${isDir ? 'directory' : 'file'}: ${a.dest}\n` : 'absent\n', after: `downloaded from ${displayUrl(a.url)}\n` },
    };
    const out: Plan = { changes: [change], result, msg: note };
    if (want) wanted.set(out, want);
    return out;
  },

  async apply(a, plan, ctx: ModuleContext<Remote>) {
    const c = plan.changes[0];
    if (c.kind !== 'exec') return applyChanges(plan, ctx);
    const url = displayUrl(a.url);
    const started = ctx.now();
    const r = await ctx.remote.exec(c.command, c.opts);
    const d = r.rc === 0 ? parseDownload(r.stdout) : undefined;
    if (!d) throw new ModuleFailure(`Request failed: GET ${url} from ${ctx.host}: ${lastLines(r.stderr, 3) || `rc=${r.rc}`}`, { status_code: -1, url, rc: r.rc });
    const body = p.join(d.dir, 'body');
    try {
      const elapsed = Math.round((ctx.now() - started) / 1000);
      if (/^https?:/.test(a.url) && d.status !== 200) {
        throw new ModuleFailure(`Request failed: GET ${url} returned HTTP Error ${d.status}`, { status_code: d.status, url, dest: a.dest });
      }
      const want = wanted.get(plan);
      if (want && d.sums[want.algorithm] !== want.hash) {
        throw new ModuleFailure(`The checksum for ${a.dest} did not match ${want.hash}; it was ${d.sums[want.algorithm]}.`, { dest: a.dest, url });
      }
      const [st0] = await ctx.remote.stat([a.dest], { follow: true });
      const dest = st0.exists && st0.type === 'directory' ? p.join(a.dest, dispositionFilename(d.headers['content-disposition']) ?? urlFilename(a.url)) : a.dest;
      const [st] = await ctx.remote.stat([dest], { checksum: true });
      const base = { dest, url, status_code: d.status, checksum_src: d.sums.sha1, elapsed };
      let changes: Change[];
      let size: number;
      if (st.exists && st.type === 'file' && st.sha256 === d.sums.sha256) {
        const ac = attrChange(dest, st, attrsOf(a));
        changes = ac ? [ac] : [];
        size = st.size ?? 0;
      } else {
        const content = await ctx.remote.readFile(body);
        if (content === null) throw new ModuleFailure(`the download of ${url} vanished from ${d.dir}`, { dest });
        size = content.length;
        changes = await planContent(ctx, { dest, content, stat: st, attrs: attrsOf(a), backup: a.backup });
      }
      const applied = changes.length ? await applyChanges({ changes }, ctx) : {};
      return { ...applied, ...base, checksum_dest: d.sums.sha1, size, msg: `OK (${size} bytes)`, changed: changes.length > 0 };
    } finally {
      await ctx.remote.exec(sh`rm -rf -- ${d.dir}`);
    }
  },
});
