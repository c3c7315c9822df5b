/**
 * slurp: a file's bytes from the host, base64-encoded in the result (as Ansible returns them), to
 * be decoded with `b64decode`. Its documentation is the defineModule fields below (`tsplay doc slurp`).
 */

import { defineModule, ModuleFailure } from '../runner/module-api';

export interface SlurpArgs {
  src?: string;
  path?: string;
}

export default defineModule<SlurpArgs>({
  name: 'slurp',
  description: 'Read a file from the host into the result as base64 (content, encoding, source).',
  notes: 'Reads the file in one round trip; any bytes, binary too. Changes nothing, so it runs in check mode as usual.',
  returns: '{ content: base64 of the bytes, encoding: "base64", source }',
  example: `- slurp:
    src: /etc/patroni/patroni.yml
  register: patroni_conf
- debug:
    msg: "{{ patroni_conf.content | b64decode }}"`,
  checkMode: 'Runs as usual: reading changes nothing.',
  schema: {
    type: 'object',
    additionalProperties: false,
    anyOf: [{ required: ['src'] }, { required: ['path'] }],
    properties: {
      src: { type: 'string', minLength: 1, description: 'The file on the host.' },
      path: { type: 'string', minLength: 1, description: 'Alias of src.' },
    },
  },

  async plan(a, ctx) {
    const src = (a.src ?? a.path)!;
    const [st] = await ctx.remote.stat([src], { follow: true });
    if (!st.exists) throw new ModuleFailure(`file not found: ${src}`, { source: src });
    if (st.type === 'directory') throw new ModuleFailure(`source is a directory and must be a file: ${src}`, { source: src });
    const data = await ctx.remote.readFile(src);
    if (data === null) throw new ModuleFailure(`file not found: ${src}`, { source: src });
    return { changes: [], result: { content: data.toString('base64'), encoding: 'base64', source: src } };
  },
});
