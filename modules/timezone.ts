/**
 * timezone: the system time zone (and whether the RTC keeps local time). With systemd it asks
 * and tells timedatectl; without it, Debian's /etc/timezone and the /etc/localtime link.
 * `tsplay doc timezone` shows the fields.
 */

import { defineModule, lastLines, ModuleFailure, sh, type Change } from '../runner/module-api';

export interface TimezoneArgs {
  name?: string;
  hwclock?: 'UTC' | 'local';
}

/** A zone name as tzdata spells it (Europe/Paris, Etc/GMT+1, UTC): never an option, never `..`. */
const ZONE = '^[A-Za-z0-9_+][A-Za-z0-9_+-]*(/[A-Za-z0-9_+][A-Za-z0-9_+-]*)*$';
export const ZONEINFO = '/usr/share/zoneinfo/';

/** timedatectl show's `Key=value` lines. */
function parseShow(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of stdout.split('\n')) {
    const i = l.indexOf('=');
    if (i > 0) out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}

export default defineModule<TimezoneArgs>({
  name: 'timezone',
  description: 'Set the system time zone (timedatectl, or /etc/timezone + /etc/localtime) and the RTC mode.',
  notes:
    'Also answers to community.general.timezone. With a running systemd (timedatectl answers), the zone is read with ' +
    '`timedatectl show` and set with `timedatectl set-timezone`, hwclock with `set-local-rtc`. Otherwise (a container ' +
    'without systemd) /etc/timezone is written and /etc/localtime is made a link to /usr/share/zoneinfo/NAME, as on ' +
    'Debian; hwclock then is an error. The zone must exist in /usr/share/zoneinfo on the host.',
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', pattern: ZONE, maxLength: 128, description: 'The zone, e.g. Europe/Paris or UTC.' },
      hwclock: { type: 'string', enum: ['UTC', 'local'], description: 'Whether the hardware clock keeps UTC or local time (systemd hosts).' },
    },
    additionalProperties: false,
    anyOf: [{ required: ['name'] }, { required: ['hwclock'] }],
  },
  example: `- timezone:
    name: Europe/Paris
- community.general.timezone:
    name: UTC
    hwclock: UTC`,
  checkMode: 'Reads the zone (timedatectl show, or /etc/timezone and the /etc/localtime link); reports what it would set.',
  returns: 'diff-like before/after in msg; name.',
  async plan(args, ctx) {
    const [zone] = args.name !== undefined ? await ctx.remote.stat([ZONEINFO + args.name], { follow: true }) : [undefined];
    if (zone && (!zone.exists || zone.type !== 'file')) {
      throw new ModuleFailure(`unknown time zone ${args.name}: no ${ZONEINFO}${args.name} on the host`, { name: args.name });
    }
    const show = await ctx.remote.query('timedatectl show -p Timezone -p LocalRTC', { env: { LC_ALL: 'C' } });
    const changes: Change[] = [];
    if (show.rc === 0) {
      const s = parseShow(show.stdout);
      if (args.name !== undefined && s.Timezone !== args.name) {
        changes.push({
          kind: 'exec',
          summary: `set the time zone to ${args.name}`,
          command: sh`timedatectl set-timezone -- ${args.name}`,
          diff: { path: 'timezone', before: `${s.Timezone ?? ''}\n`, after: `${args.name}\n` },
        });
      }
      const local = s.LocalRTC === 'yes';
      if (args.hwclock !== undefined && local !== (args.hwclock === 'local')) {
        changes.push({
          kind: 'exec',
          summary: `hardware clock keeps ${args.hwclock} time`,
          command: `timedatectl set-local-rtc ${args.hwclock === 'local' ? '1' : '0'}`,
          diff: { path: 'hwclock', before: `${local ? 'local' : 'UTC'}\n`, after: `${args.hwclock}\n` },
        });
      }
      return { changes, result: { name: args.name } };
    }
    if (args.hwclock !== undefined) {
      throw new ModuleFailure(`hwclock needs timedatectl, which did not answer: ${lastLines(show.stderr || show.stdout, 2)}`, { rc: show.rc });
    }
    // Debian without a running systemd: /etc/timezone names the zone, /etc/localtime links to its data
    const name = args.name!;
    const [tz, [lt]] = await Promise.all([ctx.remote.readFile('/etc/timezone'), ctx.remote.stat(['/etc/localtime'])]);
    const before = tz?.toString('utf8') ?? null;
    if (before?.trim() !== name) {
      changes.push({ kind: 'write', summary: `write ${name} to /etc/timezone`, path: '/etc/timezone', before, after: `${name}\n`, mode: '0644' });
    }
    const target = ZONEINFO + name;
    if (!(lt.type === 'link' && (lt.linkTarget === target || lt.linkTarget === `..${target}`))) {
      changes.push({
        kind: 'exec',
        summary: `link /etc/localtime to ${target}`,
        command: sh`ln -sfn -- ${target} /etc/localtime`,
        diff: { path: '/etc/localtime', before: `${lt.linkTarget ?? (lt.exists ? lt.type : 'absent')}\n`, after: `${target}\n` },
      });
    }
    return { changes, result: { name } };
  },
});
