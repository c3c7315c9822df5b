/**
 * Ansible-like human output. Colours only on a TTY and never with NO_COLOR. On a TTY only, a
 * live status line (running task, hosts done/total, elapsed) is redrawn under the output so a
 * long wait never looks like a hang; it is erased before any other line is printed.
 */

// `diff` is loaded on the first diff shown: most runs show none (10-15 ms of start-up)
type DiffLib = typeof import('diff');
let diffLib: DiffLib | undefined;
import type { DiffText } from '../module-api';
import { secrets } from '../secrets';
import type { RunEvent } from './events';

export interface HumanOptions {
  verbosity: number;
  color: boolean;
  /** live status line (TTY only) */
  live: boolean;
  write: (s: string) => void;
}

const C = {
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  red: '\x1b[31m',
  cyan: '\x1b[36m',
  magenta: '\x1b[35m',
  bold: '\x1b[1m',
  dim: '\x1b[2m',
  reset: '\x1b[0m',
};

function banner(title: string): string {
  const width = 79;
  return `${title} ${'*'.repeat(Math.max(3, width - title.length - 1))}`;
}

export function renderDiff(d: DiffText, color: boolean): string {
  diffLib ??= require('diff') as DiffLib;
  const patch = diffLib.createTwoFilesPatch(`before: ${d.path}`, `after: ${d.path}`, d.before, d.after, undefined, undefined, {
    context: 3,
  });
  // drop the "Index:/====" header lines createTwoFilesPatch adds
  const lines = patch.split('\n').filter((l, i) => !(i < 2 && (l.startsWith('Index') || l.startsWith('===='))));
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  if (!color) return lines.join('\n');
  return lines
    .map((l) => {
      if (l.startsWith('+++') || l.startsWith('---')) return C.bold + l + C.reset;
      if (l.startsWith('+')) return C.green + l + C.reset;
      if (l.startsWith('-')) return C.red + l + C.reset;
      if (l.startsWith('@@')) return C.cyan + l + C.reset;
      return l;
    })
    .join('\n');
}

function fmtDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(2)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${(s - m * 60).toFixed(1)} s`;
}

/** Keys of a result worth showing at -v for an ok/changed host. */
function resultJson(result: Record<string, unknown> | undefined): string {
  if (!result) return '{}';
  return JSON.stringify(result, (_k, v) => (Buffer.isBuffer(v) ? `<${v.length} bytes>` : v), 4);
}

export class HumanReporter {
  private statusTask = '';
  private statusTotal = 0;
  private statusDone = 0;
  private taskStarted = 0;
  private statusShown = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: HumanOptions) {}

  private paint(color: keyof typeof C, s: string): string {
    return this.o.color ? C[color] + s + C.reset : s;
  }

  private print(text: string): void {
    this.clearStatus();
    this.o.write(secrets.mask(text) + '\n');
    this.drawStatus();
  }

  private clearStatus(): void {
    if (this.statusShown) {
      this.o.write('\r\x1b[2K');
      this.statusShown = false;
    }
  }

  private drawStatus(): void {
    if (!this.o.live || !this.statusTask) return;
    const el = ((Date.now() - this.taskStarted) / 1000).toFixed(1);
    const line = `… ${this.statusTask}  ${this.statusDone}/${this.statusTotal} hosts  ${el}s`;
    const cols = process.stdout.columns || 100;
    this.o.write('\r\x1b[2K' + this.paint('dim', line.slice(0, cols - 1)));
    this.statusShown = true;
  }

  private startTimer(): void {
    if (!this.o.live || this.timer) return;
    this.timer = setInterval(() => this.drawStatus(), 250);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.statusTask = '';
    this.clearStatus();
  }

  handle(e: RunEvent): void {
    const v = this.o.verbosity;
    switch (e.type) {
      case 'run_start':
        if (v >= 1) this.print(`tsplay ${e.version}: ${e.playbook}${e.check ? ' (check mode)' : ''}`);
        if (e.check) this.print(this.paint('magenta', 'CHECK MODE: nothing will be changed on any host'));
        break;
      case 'play_start':
        this.print(`\n${banner(`PLAY [${e.name}]`)}`);
        if (e.hosts.length === 0) this.print(this.paint('magenta', 'skipping: no hosts matched'));
        break;
      case 'task_start':
        this.print(`\n${banner(`${e.handler ? 'RUNNING HANDLER' : 'TASK'} [${e.name}]`)}`);
        if (v >= 2 && e.file) this.print(this.paint('dim', `task path: ${e.file}:${e.line ?? ''}`));
        this.statusTask = e.name;
        this.statusTotal = e.hosts;
        this.statusDone = 0;
        this.taskStarted = Date.now();
        this.startTimer();
        break;
      case 'host_result': {
        if (!e.item) this.statusDone++;
        const host = e.delegated_to ? `${e.host} -> ${e.delegated_to}` : e.host;
        const item = e.item !== undefined ? ` => (item=${e.item})` : '';
        let line: string;
        if (e.status === 'failed') {
          const body = JSON.stringify({ msg: e.msg ?? 'failed', ...(v >= 1 ? e.result : pickFailure(e.result)) });
          line = this.paint('red', e.item !== undefined ? `failed: [${host}] (item=${e.item}) => ${body}` : `fatal: [${host}]: FAILED! => ${body}`);
          if (e.ignored) line += '\n' + this.paint('cyan', '...ignoring');
        } else if (e.status === 'unreachable') {
          line = this.paint('red', `fatal: [${host}]: UNREACHABLE! => ${JSON.stringify({ msg: e.msg, unreachable: true })}`);
        } else if (e.status === 'skipped') {
          if (v < 1 && e.item === undefined && e.msg === undefined) {
            line = this.paint('cyan', `skipping: [${host}]`);
          } else {
            line = this.paint('cyan', `skipping: [${host}]${item}${e.msg ? ` => ${e.msg}` : ''}`);
          }
        } else {
          const word = e.status === 'changed' ? 'changed' : 'ok';
          line = this.paint(e.status === 'changed' ? 'yellow' : 'green', `${word}: [${host}]${item}`);
          if (e.msg !== undefined && (v >= 1 || e.show)) line += ` => ${this.paint(e.status === 'changed' ? 'yellow' : 'green', e.msg)}`;
          else if (v >= 1 && e.result) line += ' => ' + resultJson(e.result);
        }
        if (e.diff?.length) {
          for (const d of e.diff) this.print(renderDiff(d, this.o.color));
        }
        this.print(line);
        break;
      }
      case 'retry':
        this.print(this.paint('yellow', `FAILED - RETRYING: [${e.host}]: ${e.task} (${e.retries - e.attempt} retries left) retrying (${e.attempt}/${e.retries})`));
        break;
      case 'warning':
        this.print(this.paint('magenta', `[WARNING]: ${e.host ? `[${e.host}] ` : ''}${e.message}`));
        break;
      case 'verbose':
        if (e.level <= v) this.print(this.paint('dim', `${e.host ? `<${e.host}> ` : ''}${e.message}`));
        break;
      case 'include':
        this.print(this.paint('cyan', `included: ${e.file} for ${e.host}`));
        break;
      case 'play_end':
        break;
      case 'recap': {
        this.close();
        this.print(`\n${banner('PLAY RECAP')}`);
        const names = Object.keys(e.hosts);
        const w = Math.max(26, ...names.map((n) => n.length + 1));
        for (const h of names) {
          const c = e.hosts[h];
          const color: keyof typeof C = c.failed || c.unreachable ? 'red' : c.changed ? 'yellow' : 'green';
          const f = (k: string, n: number, col: keyof typeof C) => (n ? this.paint(col, `${k}=${n}`) : `${k}=${n}`);
          this.print(
            `${this.paint(color, h.padEnd(w))}: ${f('ok', c.ok, 'green')}    ${f('changed', c.changed, 'yellow')}    ` +
              `${f('unreachable', c.unreachable, 'red')}    ${f('failed', c.failed, 'red')}    ${f('skipped', c.skipped, 'cyan')}    ` +
              `${f('rescued', c.rescued, 'magenta')}    ${f('ignored', c.ignored, 'magenta')}`,
          );
        }
        this.print(`\n${e.interrupted ? 'interrupted after' : 'finished in'} ${fmtDuration(e.duration_ms)}`);
        break;
      }
    }
  }
}

/** At verbosity 0 a failure shows only what explains it. */
function pickFailure(r: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!r) return {};
  const out: Record<string, unknown> = {};
  for (const k of ['rc', 'stderr', 'stdout', 'cmd', 'failed_table', 'journal', 'censored']) {
    if (r[k] !== undefined && r[k] !== '') out[k] = r[k];
  }
  return out;
}

/** `--format json`: one event per line. */
export class JsonReporter {
  constructor(private readonly write: (s: string) => void) {}
  handle(e: RunEvent): void {
    this.write(secrets.mask(JSON.stringify(e, (_k, v) => (Buffer.isBuffer(v) ? `<${v.length} bytes>` : v))) + '\n');
  }
  close(): void {}
}
