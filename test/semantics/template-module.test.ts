/**
 * The template module's Ansible arguments and template files that include, extend and import
 * other templates of their role, run by the real CLI over the local connection.
 */
import fs from 'fs';
import path from 'path';
import { makeProject, results, runTsplay } from '../helpers/run-tsplay';

function run(dir: string, extra: string[] = []) {
  return runTsplay(['run', path.join(dir, 'site.yml'), '-i', path.join(dir, 'hosts.ini'), '--format', 'json', ...extra], { cwd: dir });
}

const ROLE = {
  'hosts.ini': 'h1 ansible_connection=local\n',
  'roles/web/templates/base.j2': '# {{ ansible_managed }}\n{% block body %}{% endblock %}\nend\n',
  'roles/web/templates/vhost.j2': "{% extends 'base.j2' %}\n{% from 'macros.j2' import kv %}\n{% block body %}\n{# one line per port #}\n{% for p in ports %}\n{{ kv('listen', p) }}\n{% endfor %}\n{% include 'sub/footer.j2' %}\n{% endblock %}\n",
  'roles/web/templates/macros.j2': '{% macro kv(k, v) %}{{ k }} {{ v }};{% endmacro %}\n',
  'roles/web/templates/sub/footer.j2': '# from {{ template_path }}\n',
  'roles/web/templates/lines.j2': '#jinja2: lstrip_blocks: True\n  {% if true %}\na\n  {% endif %}\nb\n',
};

describe('template module', () => {
  test('a role template extends, imports and includes its siblings; Ansible arguments shape the output', () => {
    const dir = makeProject({
      ...ROLE,
      'roles/web/tasks/main.yml': `
- template: { src: vhost.j2, dest: "{{ out }}/vhost.conf" }
- template: { src: lines.j2, dest: "{{ out }}/lines.crlf", newline_sequence: '\\r\\n', trim_blocks: false }
- template: { src: lines.j2, dest: "{{ out }}/lines.mode", mode: preserve, output_encoding: UTF-8 }
`,
      'site.yml': `
- hosts: all
  gather_facts: false
  vars: { ports: [80, 443] }
  roles: [web]
`,
    });
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    fs.chmodSync(path.join(dir, 'roles/web/templates/lines.j2'), 0o640);
    const r = run(dir, ['-e', `out=${out}`]);
    expect(`${r.code} ${r.stderr}`).toBe('0 ');
    expect(fs.readFileSync(path.join(out, 'vhost.conf'), 'utf8')).toBe('# Ansible managed\nlisten 80;\nlisten 443;\n# from vhost.j2end\n');
    // the outputs are ansible-playbook 2.14's for the same project
    expect(fs.readFileSync(path.join(out, 'lines.crlf'), 'utf8')).toBe('\r\na\r\n\r\nb\r\n');
    expect(fs.statSync(path.join(out, 'lines.mode')).mode & 0o777).toBe(0o640);
  }, 60000);

  test('a missing included template and a syntax error in one are reported before any host is touched', () => {
    const dir = makeProject({
      ...ROLE,
      'roles/web/templates/broken.j2': 'x\n{% for %}\n',
      'roles/web/templates/a.j2': "{% include 'broken.j2' %}\n{% include 'nowhere.j2' %}\n",
      'roles/web/tasks/main.yml': `
- file: { path: "{{ out }}/touched", state: touch }
- template: { src: a.j2, dest: "{{ out }}/a" }
`,
      'site.yml': `
- hosts: all
  gather_facts: false
  roles: [web]
`,
    });
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    const r = run(dir, ['-e', `out=${out}`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/broken\.j2:2/);
    expect(r.stderr).toMatch(/a\.j2:2.*template 'nowhere\.j2' not found/);
    expect(fs.existsSync(path.join(out, 'touched'))).toBe(false);
    expect(results(r)).toEqual([]);
  }, 60000);

  test('arguments tsplay cannot honour fail the task naming them, and change nothing', () => {
    const dir = makeProject({
      ...ROLE,
      'roles/web/tasks/main.yml': `
- template: { src: lines.j2, dest: "{{ out }}/x", variable_start_string: '[[' }
  ignore_errors: true
  register: delim
- template: { src: lines.j2, dest: "{{ out }}/y", output_encoding: latin-1 }
  ignore_errors: true
  register: enc
- debug: { msg: "{{ delim.msg }} | {{ enc.msg }}" }
  name: show
`,
      'site.yml': `
- hosts: all
  gather_facts: false
  roles: [web]
`,
    });
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    const r = run(dir, ['-e', `out=${out}`]);
    expect(`${r.code} ${r.stderr}`).toBe('0 ');
    const msg = String(results(r).find((e) => String(e.task ?? e.name ?? '').endsWith('show'))?.result?.msg ?? JSON.stringify(results(r)));
    expect(msg).toMatch(/variable_start_string '\[\[' is not supported/);
    expect(msg).toMatch(/output_encoding 'latin-1' is not supported/);
    expect(fs.readdirSync(out)).toEqual([]);
  }, 60000);
});
