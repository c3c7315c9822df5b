/**
 * ntp-check: etcd's leader election needs consistent clocks across the nodes; this checks them
 * before etcd starts. Its documentation is the defineModule fields below (`tsplay doc ntp-check`).
 *
 * Separate round trips per sample, because one command can only be bracketed once by the
 * controller clock: N samples in one command would share one rtt.
 */

import { defineModule, ModuleFailure } from '../runner/module-api';

export interface NtpCheckArgs {
  max_offset_ms: number;
  require_sync: boolean;
  samples: number;
}

/** Prints "source NAME" then "synced yes|no|unknown" and a detail line, from the first tool present. */
export const SYNC_SCRIPT = [
  'if command -v timedatectl >/dev/null 2>&1 && v=$(timedatectl show -p NTPSynchronized --value 2>/dev/null) && [ -n "$v" ]; then',
  '  echo "source timedatectl"; echo "synced $v"; echo "detail NTPSynchronized=$v"',
  'elif command -v chronyc >/dev/null 2>&1 && out=$(LC_ALL=C chronyc -n tracking 2>/dev/null); then',
  '  echo "source chronyc"',
  '  case $out in *"Leap status"*": Normal"*) echo "synced yes" ;; *) echo "synced no" ;; esac',
  `  echo "detail $(printf '%s\\n' "$out" | grep -E '^(Reference ID|Leap status|System time)' | tr -s ' ' | tr '\\n' ';')"`,
  'elif command -v ntpq >/dev/null 2>&1 && out=$(ntpq -pn 2>/dev/null); then',
  '  echo "source ntpq"',
  `  if printf '%s\\n' "$out" | grep -q '^\\*'; then echo "synced yes"; else echo "synced no"; fi`,
  `  echo "detail $(printf '%s\\n' "$out" | grep '^\\*' | awk '{print "sys.peer", $1, "offset", $9 " ms"}')"`,
  'else',
  '  echo "source none"; echo "synced unknown"; echo "detail no timedatectl, chronyc or ntpq answered"',
  'fi',
].join('\n');

export const DATE_CMD = 'date +%s.%N';

/** Seconds with a fraction, as GNU date prints; busybox date prints "%N" literally. */
export function parseRemoteTime(stdout: string): number {
  const t = stdout.trim();
  if (!/^\d+\.\d+$/.test(t)) throw new ModuleFailure(`ntp-check: cannot read the host clock: 'date +%s.%N' printed '${t.slice(0, 40)}' (GNU date needed)`);
  return Number(t) * 1000;
}

function signed(ms: number): string {
  return `${ms >= 0 ? '+' : '-'}${Math.abs(ms).toFixed(1)}`;
}

export default defineModule<NtpCheckArgs>({
  name: 'ntp-check',
  description: 'Check-only: the clock is NTP-synchronized and within max_offset_ms of the controller',
  notes: [
    'Passes when the host\'s clock is synchronized by its NTP daemon and its offset from the',
    'CONTROLLER\'s clock is under max_offset_ms.',
    'The sync status comes from the first tool present: `timedatectl show -p NTPSynchronized`',
    '(systemd-timesyncd or chrony behind timedated), `chronyc -n tracking` (Leap status Normal),',
    '`ntpq -pn` (a peer marked `*`). Then `samples` round trips of `date +%s.%N`, each bracketed by',
    'the controller clock: offset = remote - (t0 + t1) / 2, error at most rtt / 2. Each costs ~1 ms',
    'on a persistent connection.',
  ].join('\n'),
  returns: [
    '{ offset_ms, rtt_ms, synchronized, source, max_offset_ms }; msg like',
    '"offset +3.2 ms (rtt 1.1 ms), synchronized: yes (timedatectl)"',
  ].join('\n'),
  example: ['- name: clocks agree before etcd starts', '  ntp-check:', '    max_offset_ms: 200', '    require_sync: true'].join('\n'),
  checkMode: 'Runs the same read-only queries; never changes anything.',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      max_offset_ms: { type: 'number', exclusiveMinimum: 0, default: 500, description: 'largest accepted |offset| from the controller clock, in ms' },
      require_sync: { type: 'boolean', default: true, description: "the host's NTP daemon must report synchronized (false: only the offset counts)" },
      samples: { type: 'integer', minimum: 1, maximum: 10, default: 3, description: 'clock samples; the one with the smallest round trip is used' },
    },
  },

  async plan(a, ctx) {
    const st = await ctx.remote.query(SYNC_SCRIPT);
    const info: Record<string, string> = {};
    for (const line of st.stdout.split('\n')) {
      const i = line.indexOf(' ');
      if (i > 0) info[line.slice(0, i)] = line.slice(i + 1).trim();
    }
    const source = info.source ?? 'none';
    const synchronized = info.synced === 'yes';

    let best: { offset: number; rtt: number } | undefined;
    for (let i = 0; i < a.samples; i++) {
      const t0 = ctx.now();
      const r = await ctx.remote.query(DATE_CMD);
      const t1 = ctx.now();
      if (r.rc !== 0) throw new ModuleFailure(`ntp-check: 'date' failed on ${ctx.host} (rc=${r.rc}): ${r.stderr.trim()}`, { rc: r.rc });
      const remote = parseRemoteTime(r.stdout);
      const s = { offset: remote - (t0 + t1) / 2, rtt: t1 - t0 };
      if (!best || s.rtt < best.rtt) best = s;
    }
    const { offset, rtt } = best as { offset: number; rtt: number };
    const result = {
      offset_ms: Math.round(offset * 10) / 10,
      rtt_ms: Math.round(rtt * 10) / 10,
      synchronized,
      source,
      sync_detail: info.detail ?? '',
      max_offset_ms: a.max_offset_ms,
    };
    const syncText = synchronized ? `yes (${source})` : source === 'none' ? 'unknown (no NTP daemon found)' : `no (${source})`;
    const msg = `offset ${signed(offset)} ms (rtt ${rtt.toFixed(1)} ms), synchronized: ${syncText}${!synchronized && !a.require_sync ? ' (not required)' : ''}`;

    const problems: string[] = [];
    if (Math.abs(offset) >= a.max_offset_ms) problems.push(`offset ${signed(offset)} ms from the controller exceeds max_offset_ms ${a.max_offset_ms}`);
    if (a.require_sync && !synchronized) {
      problems.push(
        source === 'none'
          ? 'no NTP daemon status found (timedatectl, chronyc, ntpq); set require_sync: false for hosts without one'
          : `clock not synchronized (${source}: ${info.detail ?? ''})`,
      );
    }
    if (problems.length) throw new ModuleFailure(`ntp-check failed on ${ctx.host}: ${problems.join('; ')} [${msg}]`, result);
    return { changes: [], result, msg };
  },
});
