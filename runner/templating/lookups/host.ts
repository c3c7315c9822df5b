/**
 * The lookups that read the controller's process and the task's variables: env, pipe, vars,
 * varnames.
 */

import { spawnSync } from 'child_process';
import { TemplateError } from '../../errors';
import { MISSING, Undefined } from '../jinja';
import { pyRegex } from '../jinja/regex';
import { typeName } from '../jinja/values';
import type { LookupDef } from './index';

function names(terms: unknown[], what: string): string[] {
  return terms.map((t) => {
    if (typeof t !== 'string') throw new TemplateError(`${what} must be a string, got ${typeName(t)}`);
    return t;
  });
}

/** The longest a pipe command's output may be (it is kept in memory, in every host's variables). */
const MAX_PIPE_OUTPUT = 64 * 1024 * 1024;

export const HOST_LOOKUPS: Record<string, LookupDef> = {
  env: {
    options: ['default'],
    run: (terms, kw) => names(terms, 'a variable name').map((n) => process.env[n] ?? (kw.default !== undefined ? kw.default : '')),
  },
  pipe: {
    options: [],
    // Ansible's pipe: the term is a shell command by design (as the shell module's), run with
    // /bin/sh -c on the controller in the playbook's directory, also under --check
    run(terms, _kw, env) {
      return names(terms, 'a command').map((cmd) => {
        const r = spawnSync('/bin/sh', ['-c', cmd], { cwd: env.baseDir, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: MAX_PIPE_OUTPUT });
        if (r.error) throw new TemplateError(`cannot run '${cmd}': ${r.error.message}`);
        if (r.status !== 0) {
          const err = r.stderr.toString('utf8').trim();
          throw new TemplateError(`lookup_plugin.pipe(${cmd}) returned ${r.status ?? `signal ${r.signal}`}${err ? `: ${err}` : ''}`);
        }
        return r.stdout.toString('utf8').replace(/\s+$/, '');
      });
    },
  },
  vars: {
    options: ['default'],
    run(terms, kw, env) {
      return names(terms, 'a variable name').map((n) => {
        const v = env.variable(n);
        if (v === MISSING || v === undefined || v instanceof Undefined) {
          if (kw.default !== undefined) return kw.default;
          throw new TemplateError(`No variable found with this name: ${n}`);
        }
        return v;
      });
    },
  },
  varnames: {
    options: [],
    run(terms, _kw, env) {
      const all = env.variableNames();
      const out: string[] = [];
      for (const t of names(terms, 'a regular expression')) {
        const re = pyRegex(t);
        for (const n of all) if (re.test(n)) out.push(n);
      }
      return out;
    },
  },
};
