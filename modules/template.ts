/**
 * template: a Liquid template rendered on the controller and put on the host, compared by sha256
 * so an unchanged file costs one stat round trip. Its documentation is the defineModule fields below (`tsplay doc template`).
 */

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { decodeUtf8, defineModule, ModuleFailure, TsplayError, type Change, type TemplateFileOptions } from '../runner/module-api';
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
  trim_blocks?: boolean;
  lstrip_blocks?: boolean;
  newline_sequence?: string;
  block_start_string?: string;
  block_end_string?: string;
  variable_start_string?: string;
  variable_end_string?: string;
  comment_start_string?: string;
  comment_end_string?: string;
  output_encoding?: string;
}

const p = path.posix;

/** Ansible accepts the newline sequence as the characters or as their escapes. */
const NEWLINE_ARG: Record<string, string> = { '\\n': '\n', '\\r': '\r', '\\r\\n': '\r\n', '\n': '\n', '\r': '\r', '\r\n': '\r\n' };

/** The template module's options of the rendering (the module's argument names, Ansible's). */
function fileOptions(args: TemplateArgs): TemplateFileOptions {
  if (args.output_encoding !== undefined && !/^utf-?8$/i.test(args.output_encoding)) {
    throw new ModuleFailure(`output_encoding '${args.output_encoding}' is not supported: templates are written as utf-8`, { output_encoding: args.output_encoding });
  }
  const newline = args.newline_sequence === undefined ? undefined : NEWLINE_ARG[args.newline_sequence];
  if (args.newline_sequence !== undefined && !newline) throw new ModuleFailure(`newline_sequence must be one of \\n \\r \\r\\n, not ${JSON.stringify(args.newline_sequence)}`, {});
  return {
    trimBlocks: args.trim_blocks,
    lstripBlocks: args.lstrip_blocks,
    newlineSequence: newline,
    blockStart: args.block_start_string,
    blockEnd: args.block_end_string,
    variableStart: args.variable_start_string,
    variableEnd: args.variable_end_string,
    commentStart: args.comment_start_string,
    commentEnd: args.comment_end_string,
  };
}

/** The variables Ansible's template module adds for the template (they win over the task's). */
function templateVars(args: TemplateArgs, srcPath: string, dest: string): Record<string, unknown> {
  let uid: string | number = '';
  try {
    const st = fs.statSync(srcPath);
    uid = userName(st.uid);
  } catch {
    // the template was read a moment ago; a vanished file fails at the read
  }
  return {
    template_host: os.hostname(),
    template_path: args.src,
    template_fullpath: path.resolve(srcPath),
    template_destpath: dest,
    template_uid: uid,
    template_run_date: new Date().toISOString().replace('T', ' ').replace('Z', ''),
    // Ansible's default ansible_managed text (its configuration option is not read)
    ansible_managed: 'Ansible managed',
  };
}

/** `mode: preserve`: the template file's own permission bits. */
function preservedMode(srcPath: string): string {
  return (fs.statSync(srcPath).mode & 0o7777).toString(8).padStart(4, '0');
}

function userName(uid: number): string | number {
  try {
    const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === String(uid));
    return line ? line.split(':')[0] : uid;
  } catch {
    return uid;
  }
}

export default defineModule<TemplateArgs>({
  name: 'template',
  description: 'Render a Liquid template on the controller and write it to the host when it differs.',
  notes: [
    'The template is rendered with the task\'s variables (strict: an undefined variable is an error',
    'naming the template), compared by sha256 with the file on the host, and written atomically',
    'only when it differs. Attribute-only drift is fixed with chown/chmod. The template file must',
    'be UTF-8; its trailing newlines are kept (as Ansible does after trim_blocks). It may start',
    'with a `#jinja2: trim_blocks: False, lstrip_blocks: True` line, and {% include %},',
    '{% extends %} and {% import %} other templates (found beside it, then in the role\'s and the',
    'playbook\'s templates/). `mode: preserve` gives dest the mode of the template file. The',
    'template_* variables and ansible_managed are set as in Ansible.',
  ].join('\n'),
  schema: {
    type: 'object',
    properties: {
      src: { type: 'string', minLength: 1, description: "Template file on the controller (role's templates/, then the playbook's templates/ and directory)." },
      dest: { type: 'string', minLength: 1, description: 'Destination path on the host (an existing directory or a trailing / means dest/basename(src) without a .j2/.liquid suffix).' },
      ...ATTR_SCHEMA,
      mode: {
        ...ATTR_SCHEMA.mode,
        pattern: `^(preserve|${ATTR_SCHEMA.mode.pattern.slice(2, -2)})$`,
        description: `${ATTR_SCHEMA.mode.description} 'preserve': the mode of the template file.`,
      },
      backup: { type: 'boolean', default: false, description: 'Keep the replaced file as dest.YYYYMMDD-HHMMSS.' },
      validate: {
        type: 'string',
        pattern: '%s',
        description: "Command run on the temporary file before it replaces dest; '%s' is replaced by its path.",
      },
      force: { type: 'boolean', default: true, description: 'Replace an existing file whose content differs.' },
      trim_blocks: { type: 'boolean', description: 'Drop the first newline after a block tag or comment (default true, as Ansible).' },
      lstrip_blocks: { type: 'boolean', description: 'Drop blanks before a block tag or comment at the start of a line (default false).' },
      newline_sequence: { type: 'string', description: "Newline of the template's text in the output: '\\n' (default), '\\r' or '\\r\\n'." },
      block_start_string: { type: 'string', description: "Only '{%' is supported (an error otherwise)." },
      block_end_string: { type: 'string', description: "Only '%}' is supported (an error otherwise)." },
      variable_start_string: { type: 'string', description: "Only '{{' is supported (an error otherwise)." },
      variable_end_string: { type: 'string', description: "Only '}}' is supported (an error otherwise)." },
      comment_start_string: { type: 'string', description: "Start of a comment (default '{#')." },
      comment_end_string: { type: 'string', description: "End of a comment (default '#}')." },
      output_encoding: { type: 'string', description: 'Only utf-8 is supported (an error otherwise).' },
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
    const opts = fileOptions(args);
    const srcPath = await ctx.findFile(args.src, 'templates');
    const attrs: Attrs = { owner: idArg(args.owner), group: idArg(args.group), mode: args.mode === 'preserve' ? preservedMode(srcPath) : modeArg(args.mode) };
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

    // rendered before any look at the host: a template error touches nothing
    const content = Buffer.from(await ctx.render(source, templateVars(args, srcPath, args.dest), srcPath, opts), 'utf8');

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
