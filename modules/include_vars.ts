/**
 * include_vars: variables from YAML/JSON files on the controller, vault-aware. Its documentation is the defineModule fields below (`tsplay doc include_vars`).
 */

import * as fs from 'fs';
import * as path from 'path';
import { defineModule, ModuleFailure } from '../runner/module-api';

export interface IncludeVarsArgs {
  file?: string;
  dir?: string;
  name?: string;
  files_matching?: string;
  ignore_files?: string[];
  extensions?: string[];
  depth?: number;
}

function listDir(root: string, a: IncludeVarsArgs): string[] {
  const exts = (a.extensions ?? ['yaml', 'yml', 'json']).map((e) => e.replace(/^\./, ''));
  const match = a.files_matching !== undefined ? new RegExp(a.files_matching) : undefined;
  const ignore = new Set(a.ignore_files ?? []);
  const maxDepth = a.depth ?? 0;
  const out: string[] = [];
  const rec = (dir: string, depth: number): void => {
    for (const ent of fs.readdirSync(dir, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
      const full = path.join(dir, ent.name);
      if (ent.isDirectory()) {
        if (maxDepth === 0 || depth < maxDepth) rec(full, depth + 1);
        continue;
      }
      if (ignore.has(ent.name)) continue;
      if (!exts.includes(path.extname(ent.name).slice(1))) continue;
      if (match && !match.test(ent.name)) continue;
      out.push(full);
    }
  };
  rec(root, 1);
  return out.sort();
}

export default defineModule<IncludeVarsArgs>({
  name: 'include_vars',
  description: 'Load variables from a YAML/JSON file or directory on the controller.',
  returns: 'ansible_facts (the variables), ansible_included_var_files',
  local: true,
  freeForm: 'file',
  schema: {
    type: 'object',
    properties: {
      file: { type: 'string', minLength: 1, description: "The vars file (role's vars/, then the playbook's)." },
      dir: { type: 'string', minLength: 1, description: 'A directory: every matching file in it, sorted.' },
      name: {
        type: 'string',
        pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
        description: 'Put all the variables under this one name.',
      },
      files_matching: { type: 'string', minLength: 1, description: 'With dir: only file names matching this regexp.' },
      ignore_files: { type: 'array', items: { type: 'string' }, description: 'With dir: file names to skip.' },
      extensions: {
        type: 'array',
        items: { type: 'string' },
        description: 'With dir: extensions to load (default yaml, yml, json).',
      },
      depth: { type: 'integer', minimum: 0, default: 0, description: 'With dir: recursion depth (0: unlimited).' },
    },
    additionalProperties: false,
    oneOf: [{ required: ['file'] }, { required: ['dir'] }],
  },
  example: `- include_vars: "{{ ansible_os_family }}.yml"
- include_vars:
    dir: vars/clusters
    name: clusters`,
  checkMode: 'Same as a normal run: the variables are loaded.',
  async plan(args, ctx) {
    let files: string[];
    if (args.file !== undefined) {
      files = [await ctx.findFile(args.file, 'vars')];
    } else {
      const dir = await ctx.findFile(args.dir!, 'vars');
      if (!fs.statSync(dir).isDirectory()) throw new ModuleFailure(`${dir} is not a directory`, { dir });
      if (args.files_matching !== undefined) {
        try {
          new RegExp(args.files_matching);
        } catch (e) {
          throw new ModuleFailure(`invalid files_matching: ${(e as Error).message}`);
        }
      }
      files = listDir(dir, args);
    }
    const vars: Record<string, unknown> = {};
    for (const f of files) Object.assign(vars, await ctx.readVarsFile(f));
    const facts = args.name !== undefined ? { [args.name]: vars } : vars;
    return { changes: [], facts, result: { ansible_facts: facts, ansible_included_var_files: files } };
  },
});
