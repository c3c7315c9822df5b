/**
 * package_facts: the installed packages as Ansible's package_facts shapes them, for roles that
 * test `'nginx' in ansible_facts.packages`. Its documentation is the defineModule fields below
 * (`tsplay doc package_facts`).
 */

import { defineModule, ModuleFailure } from '../runner/module-api';

export interface PackageFactsArgs {
  manager: 'auto' | 'apt' | 'rpm';
  strategy: 'first' | 'all';
}

export interface PackageFact {
  name: string;
  version: string;
  arch: string;
  source: 'apt' | 'rpm';
  release?: string;
  epoch?: number | null;
  category?: string;
}

const APT = `dpkg-query -W -f '\${db:Status-Abbrev}\\t\${Package}\\t\${Version}\\t\${Architecture}\\t\${Section}\\n' | awk -F '\\t' '$1 ~ /^[ih]i/ { print "apt\\t" $2 "\\t" $3 "\\t" $4 "\\t" $5 }'`;
const RPM = `rpm -qa --qf 'rpm\\t%{NAME}\\t%{VERSION}\\t%{ARCH}\\t%{RELEASE}\\t%{EPOCH}\\n'`;

/** The one query: the first manager the host has (auto), or the one asked for; `strategy: all` reads every one it has. */
export function factsScript(a: PackageFactsArgs): string {
  const want = a.manager === 'auto' ? ['apt', 'rpm'] : [a.manager];
  const lines = want.map((m) => `if command -v ${m === 'apt' ? 'dpkg-query' : 'rpm'} >/dev/null 2>&1; then echo "have ${m}"; ${m === 'apt' ? APT : RPM}${a.strategy === 'first' ? '; exit 0' : ''}; fi`);
  return lines.join('\n');
}

export function parseFacts(stdout: string): { managers: string[]; packages: Record<string, PackageFact[]> } {
  const packages: Record<string, PackageFact[]> = {};
  const managers: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith('have ')) managers.push(line.slice(5));
    const f = line.split('\t');
    let p: PackageFact | undefined;
    if (f[0] === 'apt' && f.length >= 4) p = { name: f[1], version: f[2], arch: f[3], category: f[4] || undefined, source: 'apt' };
    if (f[0] === 'rpm' && f.length >= 6) p = { name: f[1], version: f[2], arch: f[3], release: f[4], epoch: /^\d+$/.test(f[5]) ? Number(f[5]) : null, source: 'rpm' };
    if (p) (packages[p.name] ??= []).push(p);
  }
  return { managers, packages };
}

export default defineModule<PackageFactsArgs>({
  name: 'package_facts',
  description: 'Set ansible_facts.packages: every installed package (name -> list of {name, version, arch, source, ...})',
  notes: [
    'One query: dpkg-query (installed and held packages: name, version, arch, category) or rpm -qa',
    '(name, version, release, epoch, arch), shaped as Ansible\'s package_facts (a list per name, since',
    'several versions or architectures can be installed). apt entries have no `origin` (dpkg does not',
    'know it; Ansible reads it through python-apt).',
  ].join('\n'),
  returns: '{ ansible_facts: { packages: { NAME: [ { name, version, arch, source, release?, epoch?, category? } ] } } }',
  example: [
    '- name: what is installed',
    '  package_facts: { manager: auto }',
    '- name: only when nginx is there',
    '  debug: { msg: "nginx {{ ansible_facts.packages.nginx[0].version }}" }',
    '  when: "\'nginx\' in ansible_facts.packages"',
  ].join('\n'),
  checkMode: 'The same read-only query as a real run; the facts are set in check mode too.',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      manager: { type: 'string', enum: ['auto', 'apt', 'rpm'], default: 'auto', description: 'auto (the first of apt, rpm the host has), apt or rpm' },
      strategy: { type: 'string', enum: ['first', 'all'], default: 'first', description: 'first: the first manager found; all: every one the host has' },
    },
  },

  async plan(a, ctx) {
    const r = await ctx.remote.query(factsScript(a));
    const { managers, packages } = parseFacts(r.stdout);
    if (!managers.length) throw new ModuleFailure(`package_facts: ${a.manager === 'auto' ? 'neither dpkg-query nor rpm' : a.manager === 'apt' ? 'no dpkg-query' : 'no rpm'} on ${ctx.host}`);
    if (r.rc !== 0) throw new ModuleFailure(`package_facts: the query failed (rc=${r.rc}): ${r.stderr.trim().split('\n').slice(-3).join('\n')}`, { rc: r.rc });
    return { changes: [], facts: { packages } };
  },
});
