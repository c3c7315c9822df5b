/**
 * wait_for: waits ON THE TARGET HOST in ONE remote command (a POSIX sh loop that probes, sleeps
 * and gives up after `timeout`), so waiting costs one round trip however long it takes. Port
 * probes use bash's /dev/tcp under coreutils `timeout` (nc and python3 are not on minimal hosts);
 * user values reach the script only as positional parameters ("$1"...), never inside it.
 * Its documentation is the defineModule fields below (`tsplay doc wait_for`).
 */

import { defineModule, ModuleFailure, sh, type ExecResult } from '../runner/module-api';

export interface WaitForArgs {
  host?: string;
  port?: number;
  path?: string;
  state?: 'started' | 'stopped' | 'present' | 'absent' | 'drained';
  search_regex?: string;
  timeout?: number;
  delay?: number;
  sleep?: number;
  connect_timeout?: number;
  msg?: string;
}

/**
 * $1 mode, $2 host, $3 port, $4 path, $5 regex, $6 timeout, $7 delay, $8 sleep, $9 connect timeout.
 * Prints "ok N" / "timeout N" (N = seconds waited); exit 0 ok, 3 timeout, 4 missing tool.
 */
export const WAIT_SCRIPT = `
mode=$1 host=$2 port=$3 file=$4 re=$5 limit=$6 delay=$7 pause=$8 ct=$9
case $mode in port*)
  command -v bash >/dev/null 2>&1 || { echo "wait_for needs bash on the host for port checks" >&2; exit 4; }
  command -v timeout >/dev/null 2>&1 || { echo "wait_for needs coreutils timeout on the host" >&2; exit 4; } ;;
esac
probe() {
  case $mode in
    port-open) timeout "$ct" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null ;;
    port-open-re) timeout "$ct" bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
      while IFS= read -r l <&3 || [ -n "$l" ]; do [[ $l =~ $2 ]] && exit 0; l=; done; exit 1' "$host" "$port" "$re" 2>/dev/null ;;
    port-closed) ! timeout "$ct" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null ;;
    path-present) [ -e "$file" ] ;;
    path-present-re) [ -f "$file" ] && grep -Eq -e "$re" -- "$file" 2>/dev/null ;;
    path-absent) [ ! -e "$file" ] && [ ! -L "$file" ] ;;
    drained)
      n=$(awk -v p=":$(printf '%04X' "$port")\$" '$2 ~ p && $4 ~ /^0[1-6]$/ { n++ } END { print n + 0 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null)
      [ "\${n:-0}" = 0 ] ;;
  esac
}
[ "$delay" -gt 0 ] && sleep "$delay"
if [ "$mode" = sleep ]; then sleep "$limit"; echo "ok $limit"; exit 0; fi
# the usual case, the condition already holds: answer before starting any clock (each clock
# read is a fork and an exec of date). The timeout counts from the first failed probe.
if probe; then echo "ok 0"; exit 0; fi
# milliseconds (GNU date); whole seconds would give up as early as limit - 1 s (a start at
# x.99 s and a check at x+limit.00 s), so without %N (busybox) the limit gets one more second
case $(date +%s%N) in *[!0-9]*|'') slack=1000 ;; *) slack=0 ;; esac
ms() { t=$(date +%s%N); case $t in *[!0-9]*|'') t=$(date +%s)000000000 ;; esac; echo $(( t / 1000000 )); }
start=$(ms)
while :; do
  now=$(ms)
  if [ $(( now - start )) -ge $(( limit * 1000 + slack )) ]; then echo "timeout $(( (now - start) / 1000 ))"; exit 3; fi
  sleep "$pause"
  if probe; then echo "ok $(( ($(ms) - start) / 1000 ))"; exit 0; fi
done
`;

type Mode = 'port-open' | 'port-open-re' | 'port-closed' | 'path-present' | 'path-present-re' | 'path-absent' | 'drained' | 'sleep';

function modeOf(a: WaitForArgs): Mode {
  const state = a.state ?? 'started';
  if (a.port !== undefined) {
    if (state === 'drained') return 'drained';
    if (state === 'stopped' || state === 'absent') return 'port-closed';
    return a.search_regex !== undefined ? 'port-open-re' : 'port-open';
  }
  if (a.path !== undefined) {
    if (state === 'absent' || state === 'stopped') return 'path-absent';
    return a.search_regex !== undefined ? 'path-present-re' : 'path-present';
  }
  return 'sleep';
}

/** The one remote command for these arguments. */
export function waitCommand(a: WaitForArgs): string {
  return sh`sh -c ${WAIT_SCRIPT} wait_for ${modeOf(a)} ${a.host ?? '127.0.0.1'} ${a.port ?? 0} ${a.path ?? ''} ${a.search_regex ?? ''} ${
    a.timeout ?? 300
  } ${a.delay ?? 0} ${a.sleep ?? 1} ${a.connect_timeout ?? 5}`;
}

export default defineModule<WaitForArgs>({
  name: 'wait_for',
  description: 'Wait on the host until a port opens/closes/drains or a file appears/disappears (one round trip).',
  notes: [
    'With neither port nor path, it just waits `timeout` seconds on the host. A timeout fails the',
    'task. `drained` reads /proc/net/tcp and tcp6.',
  ].join('\n'),
  returns: 'elapsed (seconds), state, port, path',
  schema: {
    type: 'object',
    properties: {
      host: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'Host to probe, as seen from the target.' },
      port: { type: 'integer', minimum: 1, maximum: 65535, description: 'TCP port to wait for.' },
      path: { type: 'string', minLength: 1, description: 'File on the target to wait for.' },
      state: {
        type: 'string',
        enum: ['started', 'stopped', 'present', 'absent', 'drained'],
        default: 'started',
        description: 'started/present: open or existing; stopped/absent: closed or gone; drained: no active connections on port.',
      },
      search_regex: {
        type: 'string',
        minLength: 1,
        description: 'Extended regexp a line of the file (or of what the port sends) must match.',
      },
      timeout: { type: 'integer', minimum: 0, default: 300, description: 'Seconds before giving up.' },
      delay: { type: 'integer', minimum: 0, default: 0, description: 'Seconds to wait before the first probe.' },
      sleep: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'Seconds between probes.' },
      connect_timeout: { type: 'integer', minimum: 1, default: 5, description: 'Seconds for one connection attempt.' },
      msg: { type: 'string', description: 'Failure message instead of the default.' },
    },
    additionalProperties: false,
    not: { required: ['port', 'path'] },
    allOf: [
      { if: { properties: { state: { const: 'drained' } }, required: ['state'] }, then: { required: ['port'] } },
      { if: { required: ['search_regex'] }, then: { anyOf: [{ required: ['port'] }, { required: ['path'] }] } },
    ],
  },
  example: `- wait_for:
    port: 5432
    timeout: 120
- wait_for:
    path: /var/lib/patroni/initialized
    state: present
- wait_for:
    host: "{{ hostvars[groups['etcd'][0]].ansible_host }}"
    port: 2379
    connect_timeout: 2`,
  checkMode: 'Waits as in a normal run: it only observes the host.',
  async plan(args, ctx) {
    const limit = args.timeout ?? 300;
    const budget = (limit + (args.delay ?? 0) + (args.connect_timeout ?? 5) + (args.sleep ?? 1) + 30) * 1000;
    const mode = modeOf(args);
    ctx.log(2, `waiting up to ${limit} s (${mode})`);
    let onAbort: (() => void) | undefined;
    // the remote loop cannot be stopped from here, but Ctrl-C must not wait for it
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(new ModuleFailure('wait_for interrupted'));
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
    let r: ExecResult;
    try {
      r = await Promise.race([ctx.remote.query(waitCommand(args), { timeoutMs: budget }), aborted]);
    } finally {
      if (onAbort) ctx.signal.removeEventListener('abort', onAbort);
    }
    const m = /^(ok|timeout) (\d+)/m.exec(r.stdout);
    const elapsed = m ? Number(m[2]) : undefined;
    const result = { elapsed, state: args.state ?? 'started', port: args.port, path: args.path };
    if (r.rc === 0 && m?.[1] === 'ok') return { changes: [], result, msg: `done after ${elapsed} s` };
    if (r.rc === 3) {
      const what =
        args.port !== undefined
          ? `${args.host ?? '127.0.0.1'}:${args.port}`
          : args.path !== undefined
            ? `file ${args.path}`
            : 'the host';
      const state = args.state ?? 'started';
      throw new ModuleFailure(args.msg ?? `Timeout when waiting for ${what} (${state}${args.search_regex ? `, matching ${args.search_regex}` : ''}) after ${elapsed ?? limit} s`, result);
    }
    throw new ModuleFailure(`wait_for failed (rc=${r.rc}): ${r.stderr.trim() || r.stdout.trim()}`, { ...result, rc: r.rc, stderr: r.stderr });
  },
});
