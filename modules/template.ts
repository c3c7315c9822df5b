/**
 * template: a Liquid template rendered on the controller and put on the host, compared by sha256
 * so an unchanged file costs one stat round trip. Its documentation is the defineModule fields below (`tsplay doc template`).
 */

import * as fs from 'fs';
import * as path from 'path';
import { decodeUtf8, defineModule, ModuleFailure, TsplayError, type Change } from '../runner/module-api';
import { ATTR_SCHEMA, idArg, modeArg, type Attrs } from './lib/attrs';
import { missingParent, planContent, sha1 } from './lib/content';

export interface TemplateArgs {
  src: string;
  dest: string;
  owner?: string | number;
  group?: string | number;
  mode?: string | number;
  backup?: boolean;
  validate?: string;
  force?: boolean;
}

const p = path.posix;

/**
 * As Ansible's template module (preserve_trailing_newlines): the output ends in at least as
 * many newlines as the template file, which trim_blocks would otherwise eat after a final
 * `{% endif %}`.
 */
export function keepTrailingNewlines(source: string, out: string): string {
  const count = (s: string) => s.length - s.replace(/\n+$/, '').length;
  const missing = count(source) - count(out);
  return missing > 0 ? out + '\n'.repeat(missing) : out;
}

export default defineModule<TemplateArgs>({
  name: 'template',
  description: 'Render a Liquid template on the controller and write it to the host when it differs.',
  notes: [
    'The template is rendered with the task\'s variables (strict: an undefined variable is an error',
    'naming the template), compared by sha256 with the file on the host, and written atomically',
    'only when it differs. Attribute-only drift is fixed with chown/chmod. The template file must',
    'be UTF-8; its trailing newlines are kept (as Ansible does after trim_blocks).',
  ].join('\n'),
  schema: {
    type: 'object',
    properties: {
      src: { type: 'string', minLength: 1, description: "Template file on the controller (role's templates/, then the playbook's templates/ and directory)." },
      dest: { type: 'string', minLength: 1, description: 'Destination path on the host (an existing directory or a trailing / means dest/basename(src) without a .j2/.liquid suffix).' },
      ...ATTR_SCHEMA,
      backup: { type: 'boolean', default: false, description: 'Keep the replaced file as dest.YYYYMMDD-HHMMSS.' },
      validate: {
        type: 'string',
        pattern: '%s',
        description: "Command run on the temporary file before it replaces dest; '%s' is replaced by its path.",
      },
      force: { type: 'boolean', default: true, description: 'Replace an existing file whose content differs.' },
    },
    required: ['src', 'dest'],
    additionalProperties: false,
  },
  example: `- template:
    src: patroni.yml.j2
    dest: /etc/patroni/patroni.yml
    owner: postgres
    group: postgres
    mode: '0600'
    validate: patroni --validate-config %s
  notify: restart patroni`,
  checkMode: 'Renders and compares (reads only); reports the write with a unified diff, and any chown/chmod.',
  async plan(args, ctx) {
    const attrs: Attrs = { owner: idArg(args.owner), group: idArg(args.group), mode: modeArg(args.mode) };
    const srcPath = await ctx.findFile(args.src, 'templates');
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(srcPath);
    } catch (e) {
      throw new ModuleFailure(`cannot read template ${srcPath}: ${(e as Error).message}`, { src: srcPath });
    }
    let source: string;
    try {
      // not 'utf8': Node would turn bytes that are not UTF-8 into U+FFFD and write them silently
      source = decodeUtf8(bytes, srcPath);
    } catch (e) {
      if (!(e instanceof TsplayError)) throw e;
      throw new ModuleFailure(`template ${e.describe()}`, { src: srcPath });
    }
    const content = Buffer.from(keepTrailingNewlines(source, await ctx.render(source, {}, srcPath)), 'utf8');

    // a trailing slash only says "this is a directory"; stat the path without it
    const bare = args.dest.replace(/(.)\/+$/, '$1');
    const base = p.basename(args.src).replace(/\.(j2|jinja2?|liquid)$/, '');
    const [st, inside, parent] = await ctx.remote.stat([bare, p.join(bare, base), p.dirname(bare)], { checksum: true });
    let dest = args.dest;
    let target = st;
    if (args.dest.endsWith('/') || (st.exists && st.type === 'directory')) {
      if (st.exists && st.type !== 'directory') throw new ModuleFailure(`${bare} is not a directory`, { dest: args.dest });
      if (!st.exists) throw new ModuleFailure(`destination directory ${args.dest} does not exist`, { dest: args.dest });
      dest = p.join(args.dest, base);
      target = inside;
    }
    const note = target === st ? missingParent(ctx, parent, args.dest) : undefined;
    const changes: Change[] = await planContent(ctx, {
      dest,
      content,
      stat: target,
      attrs,
      backup: args.backup,
      validate: args.validate,
      force: args.force,
    });
    return { changes, msg: note, result: { dest, src: srcPath, checksum: sha1(content), size: content.length } };
  },
});
