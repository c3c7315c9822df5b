/**
 * port-check: firewall rules and listeners are checked before the services that need them run,
 * so a blocked port fails one clear task instead of a cluster that never forms. Its documentation is the defineModule fields below (`tsplay doc port-check`).
 *
 * No dependency on ss, netstat, nc or python3 (minimal RHEL 8 images lack python3): /proc/net and
 * bash's /dev/tcp under coreutils' timeout are on every Debian and RHEL.
 */

import { defineModule, lastLines, ModuleFailure, sh } from '../runner/module-api';

export interface PortCheckArgs {
  listening?: number[];
  free?: number[];
  reach?: Array<{ host: string; port: number }>;
  reach_group?: { group: string; ports: number[] };
  mode: 'connect' | 'firewall';
  timeout_ms: number;
}

export interface CheckRow {
  from: string;
  to: string;
  expected: string;
  got: string;
  ok: boolean;
}

type Outcome = 'open' | 'refused' | 'timeout' | 'unreachable' | 'error';

/**
 * The probe function: `probe HOST PORT SECONDS INDEX` prints "INDEX OUTCOME DETAIL". Values come
 * in as positional parameters, so the script text never contains a user value.
 */
const PROBE_FN = [
  'probe() {',
  // LC_ALL=C: the messages matched below are the untranslated ones
  `  out=$(LC_ALL=C timeout "$3" bash -c 'exec 3<>"/dev/tcp/$1/$2"' probe "$1" "$2" 2>&1)`,
  '  rc=$?',
  '  case $rc in',
  '    0) r=open ;;',
  '    124) r=timeout ;;',
  '    127) r=error out="bash or timeout missing: $out" ;;',
  '    *) case $out in',
  '         *"refused"*) r=refused ;;',
  '         *"No route"*|*"unreachable"*|*"Unreachable"*) r=unreachable ;;',
  '         *) r=error ;;',
  '       esac ;;',
  '  esac',
  `  printf 'probe %s %s %s\\n' "$4" "$r" "$(printf '%s' "$out" | tr '\\n' ' ' | sed 's/^.*: //')"`,
  '}',
].join('\n');

/** The whole remote command: listening sockets (if needed) and every probe, in parallel. */
export function probeScript(targets: Array<{ address: string; port: number }>, timeoutMs: number, needSockets: boolean): string {
  const lines: string[] = [];
  if (needSockets) {
    // local_address is HEXIP:HEXPORT; state 0A is LISTEN
    lines.push(`awk '$4 == "0A" { split($2, a, ":"); print "listen", a[2] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null`);
  }
  if (targets.length) {
    lines.push(PROBE_FN);
    const secs = (timeoutMs / 1000).toFixed(3);
    targets.forEach((t, i) => lines.push(`${sh`probe ${t.address} ${t.port} ${secs} ${i}`} &`));
    lines.push('wait');
  }
  return lines.join('\n');
}

/** A probe result line: index, outcome, detail. */
export function parseProbes(stdout: string): { listen: Set<number>; probes: Map<number, { outcome: Outcome; detail: string }> } {
  const listen = new Set<number>();
  const probes = new Map<number, { outcome: Outcome; detail: string }>();
  for (const line of stdout.split('\n')) {
    const w = line.split(' ');
    if (w[0] === 'listen' && w[1]) listen.add(parseInt(w[1], 16));
    else if (w[0] === 'probe') probes.set(Number(w[1]), { outcome: w[2] as Outcome, detail: w.slice(3).join(' ').trim() });
  }
  return { listen, probes };
}

function table(rows: CheckRow[]): string {
  const head = { from: 'FROM', to: 'TO', expected: 'EXPECTED', got: 'GOT', ok: false };
  const all = [head, ...rows];
  const w = (k: 'from' | 'to' | 'expected') => Math.max(...all.map((r) => r[k].length));
  return all.map((r) => `${r.from.padEnd(w('from'))}  ${r.to.padEnd(w('to'))}  ${r.expected.padEnd(w('expected'))}  ${r.got}`).join('\n');
}

const PORT = { type: 'integer', minimum: 1, maximum: 65535 };

export default defineModule<PortCheckArgs>({
  name: 'port-check',
  description: 'Check-only: ports listening/free here, and other hosts reachable (connect or firewall mode)',
  notes: [
    'Check-only. Verifies, from this host, that ports are listening here, that ports are free here,',
    'and that other hosts\' ports can be reached (or at least are not filtered).',
    'ONE remote command per host. Listening sockets come from /proc/net/tcp and tcp6 (state 0A).',
    'The reach probes run in parallel, each `timeout S bash -c \'exec 3<>/dev/tcp/H/P\'`. Outcome:',
    'open | refused | timeout (reported as "filtered (timeout)": no answer at all is a dropping',
    'firewall, or a dead host) | unreachable (ICMP: no route, host/network unreachable) | error',
    '(e.g. name resolution).',
    'Fails with one table of every failing pair (from, to, expected, got).',
  ].join('\n'),
  returns: 'checks: the full table, [{ from, to, expected, got, ok }]',
  example: [
    '- name: firewall lets the db nodes talk (before the services exist)',
    '  port-check:',
    '    reach_group: { group: db, ports: [5432, 8008, 2379, 2380] }',
    '    mode: firewall',
    '- name: patroni and postgres listen, haproxy port still free',
    '  port-check: { listening: [5432, 8008], free: [5000] }',
  ].join('\n'),
  checkMode: 'Runs the same read-only probes; never changes anything.',
  schema: {
    type: 'object',
    additionalProperties: false,
    anyOf: [{ required: ['listening'] }, { required: ['free'] }, { required: ['reach'] }, { required: ['reach_group'] }],
    properties: {
      listening: { type: 'array', items: PORT, description: 'TCP ports that must be listening on this host' },
      free: { type: 'array', items: PORT, description: 'TCP ports that must not be listening on this host' },
      reach: {
        type: 'array',
        description: 'host:port pairs that must be reachable from this host',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['host', 'port'],
          properties: { host: { type: 'string', minLength: 1, description: 'address or name' }, port: { ...PORT, description: 'TCP port' } },
        },
      },
      reach_group: {
        type: 'object',
        additionalProperties: false,
        required: ['group', 'ports'],
        description: 'every other host of an inventory group (ansible_host, else its name), each of the ports',
        properties: {
          group: { type: 'string', minLength: 1, description: 'inventory group name' },
          ports: { type: 'array', minItems: 1, items: PORT, description: 'TCP ports to probe on each host' },
        },
      },
      mode: {
        type: 'string',
        enum: ['connect', 'firewall'],
        default: 'connect',
        description: 'connect: the port must accept a connection; firewall: a refused connection also passes (the path is open, nothing listens yet), only a timeout (filtered) or an ICMP reject fails: for checking firewall rules before the services exist',
      },
      timeout_ms: { type: 'integer', minimum: 50, maximum: 60000, default: 1500, description: 'per-probe timeout in milliseconds' },
    },
  },

  async plan(a, ctx) {
    const targets: Array<{ address: string; port: number; label: string }> = [];
    for (const r of a.reach ?? []) targets.push({ address: r.host, port: r.port, label: r.host });
    if (a.reach_group) {
      const groups = (ctx.vars.groups ?? {}) as Record<string, string[] | undefined>;
      const members = groups[a.reach_group.group];
      if (!Array.isArray(members)) throw new ModuleFailure(`port-check: group ${a.reach_group.group} is not in the inventory`);
      const hostvars = (ctx.vars.hostvars ?? {}) as Record<string, Record<string, unknown> | undefined>;
      for (const h of members) {
        if (h === ctx.host) continue;
        const ah = hostvars[h]?.ansible_host;
        const address = typeof ah === 'string' && ah ? ah : h;
        for (const port of a.reach_group.ports) targets.push({ address, port, label: address === h ? h : `${h} (${address})` });
      }
    }
    const needSockets = Boolean(a.listening?.length || a.free?.length);
    const rows: CheckRow[] = [];
    if (needSockets || targets.length) {
      const r = await ctx.remote.query(probeScript(targets, a.timeout_ms, needSockets), { timeoutMs: a.timeout_ms + 30000 });
      if (r.rc !== 0) throw new ModuleFailure(`port-check: the probe command failed (rc=${r.rc}): ${lastLines(r.stderr, 3)}`, { rc: r.rc, stderr: r.stderr });
      const { listen, probes } = parseProbes(r.stdout);
      for (const p of a.listening ?? []) {
        rows.push({ from: ctx.host, to: `${ctx.host}:${p}`, expected: 'listening', got: listen.has(p) ? 'listening' : 'not listening', ok: listen.has(p) });
      }
      for (const p of a.free ?? []) {
        rows.push({ from: ctx.host, to: `${ctx.host}:${p}`, expected: 'free', got: listen.has(p) ? 'in use (listening)' : 'free', ok: !listen.has(p) });
      }
      targets.forEach((t, i) => {
        const res = probes.get(i) ?? { outcome: 'error' as Outcome, detail: 'no answer from the probe' };
        const pass = res.outcome === 'open' || (a.mode === 'firewall' && res.outcome === 'refused');
        // a timeout is what a firewall that drops packets looks like: say so (the issue's "filtered")
        const got =
          res.outcome === 'error' || res.outcome === 'unreachable'
            ? `${res.outcome}${res.detail ? ` (${res.detail})` : ''}`
            : res.outcome === 'timeout'
              ? 'filtered (timeout)'
              : res.outcome;
        rows.push({ from: ctx.host, to: `${t.label}:${t.port}`, expected: a.mode === 'firewall' ? 'open or refused' : 'open', got, ok: pass });
      });
    }
    const failing = rows.filter((r) => !r.ok);
    if (failing.length) {
      throw new ModuleFailure(`port-check failed on ${ctx.host}: ${failing.length} of ${rows.length} checks\n${table(failing)}`, { checks: rows, failed_checks: failing.length });
    }
    return { changes: [], result: { checks: rows }, msg: `${rows.length} check${rows.length === 1 ? '' : 's'} passed` };
  },
});
