/**
 * command: Ansible's `command`, a program run WITHOUT a shell. Every word is passed quoted, so a
 * value can never become shell syntax. Its documentation is the defineModule fields below (`tsplay doc command`).
 */

import { defineModule, ModuleFailure } from '../runner/module-api';
import { applyCommand, COMMON_COMMAND_SCHEMA, displayArgv, planCommand, type CommandArgs } from './lib/run-command';

export interface CommandModuleArgs extends CommandArgs {
  cmd?: string;
  argv?: string[];
}

/**
 * Split a command line into words as a POSIX shell would (quotes, backslashes), without any
 * expansion. Throws on an unterminated quote.
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new ModuleFailure('unterminated single quote');
      cur += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < line.length) {
        const d = line[i];
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        // inside double quotes a backslash escapes only these (POSIX)
        if (d === '\\' && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1])) {
          if (line[i + 1] !== '\n') cur += line[i + 1];
          i += 2;
          continue;
        }
        cur += d;
        i++;
      }
      if (!closed) throw new ModuleFailure('unterminated double quote');
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 < line.length && line[i + 1] !== '\n') cur += line[i + 1];
      inWord = true;
      i += 2;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
    } else {
      cur += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

function words(args: CommandModuleArgs): string[] {
  if (args.argv) return args.argv;
  try {
    return splitWords(args.cmd ?? '');
  } catch (e) {
    throw new ModuleFailure(`cannot split the command line: ${(e as Error).message}`, { cmd: args.cmd });
  }
}

export default defineModule<CommandModuleArgs>({
  name: 'command',
  description: 'Run a program on the host without a shell (no pipes, redirections or variables).',
  notes: [
    'The command line is split into words like a POSIX shell would (quotes and backslashes), then',
    'every word is passed quoted, so `$HOME`, `*`, `|`, `>` and `;` reach the program literally.',
    'Use `shell` for pipes, redirections and variables. rc != 0 fails the task.',
  ].join('\n'),
  returns: 'cmd, rc, stdout, stderr, stdout_lines, stderr_lines, start, end, delta',
  freeForm: 'cmd',
  schema: {
    type: 'object',
    properties: {
      cmd: { type: 'string', minLength: 1, description: 'The command line; split into words like a shell would, never expanded.' },
      argv: {
        type: 'array',
        items: { type: 'string' },
        minItems: 1,
        description: 'The command as a list of words (use instead of cmd when words contain spaces or quotes).',
      },
      ...COMMON_COMMAND_SCHEMA,
    },
    additionalProperties: false,
    oneOf: [{ required: ['cmd'] }, { required: ['argv'] }],
  },
  example: `- command: /usr/bin/pg_lsclusters
  register: clusters
- command:
    argv: [patronictl, -c, /etc/patroni/patroni.yml, list]
    chdir: /var/lib/postgresql
    creates: /var/lib/postgresql/.done
- command: /usr/lib/postgresql/15/bin/initdb -D /var/lib/postgresql/15/main
  args:
    creates: /var/lib/postgresql/15/main/PG_VERSION`,
  checkMode:
    'Runs nothing. creates/removes are checked; otherwise reports the command as a change it would run (no stdout).',
  async plan(args, ctx) {
    const argv = words(args);
    if (argv.length === 0) throw new ModuleFailure('no command given', { cmd: args.cmd });
    const display = displayArgv(argv);
    // every word quoted: the host's shell only ever sees literal words
    return planCommand(args, ctx, display, display);
  },
  async apply(args, plan, ctx) {
    return applyCommand(args, plan, ctx, displayArgv(words(args)));
  },
});
