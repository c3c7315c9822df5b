import ntpCheck, { DATE_CMD, SYNC_SCRIPT } from '../../../modules/ntp-check';
import { ModuleFailure } from '../../../runner/module-api';
import { ArgvRecorder, FakeHost, LocalHost, readOnly, runTask, validate } from './fake';

const SYNCED = 'source timedatectl\nsynced yes\ndetail NTPSynchronized=yes\n';

/**
 * A host whose clock is `offsetMs` ahead of the controller; each sample's round trip is taken
 * from `rtts` (the remote reads its clock in the middle of it).
 */
function clockHost(offsetMs: number, rtts: number[], sync = SYNCED) {
  let clock = 1_700_000_000_000;
  let i = 0;
  const h = new FakeHost().onQuery(SYNC_SCRIPT, { stdout: sync }).onQuery(DATE_CMD, () => {
    const rtt = rtts[i++ % rtts.length];
    clock += rtt / 2;
    const remote = (clock + offsetMs) / 1000;
    clock += rtt / 2;
    return { stdout: `${remote.toFixed(9)}\n` };
  });
  // the controller clock the module reads around each query
  const now = (): number => clock;
  return { h, now };
}

describe('ntp-check', () => {
  test('passes: synchronized, small offset; the sample with the smallest rtt is used', async () => {
    const { h, now } = clockHost(3.2, [40, 1.2, 9]);
    const r = await runTask(ntpCheck, {}, h, { now });
    expect(r.changed).toBe(false);
    expect(h.cmds('query')).toEqual([SYNC_SCRIPT, DATE_CMD, DATE_CMD, DATE_CMD]);
    expect(r.result).toMatchObject({ offset_ms: 3.2, rtt_ms: 1.2, synchronized: true, source: 'timedatectl' });
    expect(r.result.msg).toBe('offset +3.2 ms (rtt 1.2 ms), synchronized: yes (timedatectl)');
  });

  test('fails when the offset is too large, naming the host and the offset', async () => {
    const { h, now } = clockHost(-812.5, [2]);
    const err = (await runTask(ntpCheck, { max_offset_ms: 500 }, h, { host: 'db2', now }).catch((e: unknown) => e)) as ModuleFailure;
    expect(err).toBeInstanceOf(ModuleFailure);
    expect(err.message).toBe('ntp-check failed on db2: offset -812.5 ms from the controller exceeds max_offset_ms 500 [offset -812.5 ms (rtt 2.0 ms), synchronized: yes (timedatectl)]');
    expect(err.result.offset_ms).toBe(-812.5);
  });

  test('not synchronized: fails unless require_sync is false', async () => {
    const unsynced = 'source chronyc\nsynced no\ndetail Leap status : Not synchronised;\n';
    const a = clockHost(1, [1], unsynced);
    await expect(runTask(ntpCheck, {}, a.h, { now: a.now })).rejects.toThrow('clock not synchronized (chronyc: Leap status : Not synchronised;)');
    const b = clockHost(1, [1], unsynced);
    const r = await runTask(ntpCheck, { require_sync: false }, b.h, { now: b.now });
    expect(r.result.msg).toBe('offset +1.0 ms (rtt 1.0 ms), synchronized: no (chronyc) (not required)');
    const c = clockHost(1, [1], 'source none\nsynced unknown\ndetail x\n');
    await expect(runTask(ntpCheck, {}, c.h, { now: c.now })).rejects.toThrow(/no NTP daemon status found .* set require_sync: false/);
  });

  test('a date without %N (busybox) fails clearly', async () => {
    const h = new FakeHost().onQuery(SYNC_SCRIPT, { stdout: SYNCED }).onQuery(DATE_CMD, { stdout: '1700000000.%N\n' });
    await expect(runTask(ntpCheck, {}, h)).rejects.toThrow("'date +%s.%N' printed '1700000000.%N' (GNU date needed)");
  });

  test('check mode: the same read-only queries', async () => {
    const { h, now } = clockHost(0, [1]);
    const ro = readOnly(h);
    const r = await runTask(ntpCheck, { samples: 2 }, ro, { now, check: true });
    expect(r.changed).toBe(false);
    expect(h.cmds('query')).toHaveLength(3);
    expect(ro.violations).toEqual([]);
  });

  test('bad arguments; no argument ever reaches a command', async () => {
    expect(validate(ntpCheck, { max_offset_ms: 0 }).valid).toBe(false);
    expect(validate(ntpCheck, { max_offset_ms: 'fast' }).valid).toBe(false);
    // a number given as text (a rendered template) is the number, as the engine's ajv coerces it
    expect(validate(ntpCheck, { max_offset_ms: '500' }).args.max_offset_ms).toBe(500);
    expect(validate(ntpCheck, { samples: 11 }).valid).toBe(false);
    expect(validate(ntpCheck, { offset: 1 }).valid).toBe(false);
    expect(validate(ntpCheck, {}).args).toEqual({ max_offset_ms: 500, require_sync: true, samples: 3 });
    const { h, now } = clockHost(0, [1]);
    await runTask(ntpCheck, { max_offset_ms: 123.5, require_sync: false, samples: 1 }, h, { now });
    expect(h.cmds('query')).toEqual([SYNC_SCRIPT, DATE_CMD]);
  });
});

describe('ntp-check (real /bin/sh)', () => {
  test('against this machine: offset near zero, rtt measured', async () => {
    const r = await runTask(ntpCheck, { require_sync: false, max_offset_ms: 100 }, new LocalHost());
    expect(Math.abs(r.result.offset_ms as number)).toBeLessThan(50);
    expect(r.result.rtt_ms as number).toBeGreaterThan(0);
    process.stdout.write(`ntp-check on this machine: ${r.result.msg}\n`);
  });

  test('the sync script picks timedatectl, else chronyc, else ntpq', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ timedatectl: 'echo yes' }, 'source timedatectl\nsynced yes\ndetail NTPSynchronized=yes\n'],
      [
        { timedatectl: 'exit 1', chronyc: "printf 'Reference ID    : C0A80001 (gw)\\nSystem time     : 0.000012 seconds fast\\nLeap status     : Normal\\n'" },
        'source chronyc\nsynced yes\ndetail Reference ID : C0A80001 (gw);System time : 0.000012 seconds fast;Leap status : Normal;\n',
      ],
      [
        { timedatectl: 'exit 1', chronyc: 'exit 1', ntpq: "printf '     remote   refid  st t when poll reach   delay   offset  jitter\\n===\\n*198.18.0.1  .GPS.  1 u   12   64  377    0.210   -0.042   0.011\\n'" },
        'source ntpq\nsynced yes\ndetail sys.peer *198.18.0.1 offset -0.042 ms\n',
      ],
      [{ timedatectl: 'exit 1', chronyc: 'exit 1', ntpq: "printf '     remote\\n===\\n 198.18.0.1 .INIT. 16\\n'" }, 'source ntpq\nsynced no\ndetail \n'],
    ];
    for (const [tools, expected] of cases) {
      const rec = new ArgvRecorder(tools);
      try {
        const r = await rec.run(SYNC_SCRIPT);
        expect(r.stdout).toBe(expected);
      } finally {
        rec.cleanup();
      }
    }
  });
});
