#!/usr/bin/python3
"""Compatibility harness: runs public roles under ansible-playbook and tsplay and compares them.

Both run in --check on the local connection (nothing on this machine changes); templates are
rendered by both into a scratch directory. See README.md beside this file.
Ansible's own python (/usr/bin/python3, which has PyYAML) runs this script.
"""
import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TSPLAY = os.path.join(REPO, 'bin', 'tsplay')
PY = '/usr/bin/python3'
# the collections of Debian's `ansible` package (community.general, ansible.posix, ...), which
# the roles use and ansible-core lacks: `apt-get download ansible && dpkg-deb -x ansible_*.deb DIR`
ANSIBLE_COLLECTIONS = '/root/compat-deb/extract/usr/lib/python3/dist-packages'


def run(cmd, env, cwd, timeout):
    try:
        p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        return 124, (e.stdout or b'').decode() if isinstance(e.stdout, bytes) else (e.stdout or ''), 'timeout'


def dump(path, data):
    with open(path, 'w') as f:
        yaml.safe_dump(data, f, sort_keys=False, width=1000)


def setup_dirs(work, corpus, cfg, entry):
    """roles/ and collections/ of one run: symlinks into the corpus, named as the play uses them."""
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(os.path.join(work, 'roles'))
    coll = os.path.join(work, 'collections', 'ansible_collections')
    for fq, d in (cfg.get('collections') or {}).items():
        ns, name = fq.split('.')
        os.makedirs(os.path.join(coll, ns), exist_ok=True)
        os.symlink(os.path.join(corpus, d), os.path.join(coll, ns, name))
    if entry['role'].count('.') < 2:
        os.symlink(os.path.join(corpus, entry['dir']), os.path.join(work, 'roles', entry['role']))
    groups = entry.get('groups') or []
    lines = ['localhost ansible_connection=local ansible_python_interpreter=%s' % PY, '']
    for g in groups:
        lines += ['[%s]' % g, 'localhost', '']
    with open(os.path.join(work, 'hosts'), 'w') as f:
        f.write('\n'.join(lines))


def envs(work):
    base = dict(os.environ, ANSIBLE_NOCOLOR='1', NO_COLOR='1')
    coll = os.path.join(work, 'collections')
    a = dict(base, ANSIBLE_STDOUT_CALLBACK='compat_json', ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, 'callback_plugins'), ANSIBLE_ROLES_PATH=os.path.join(work, 'roles'),
             ANSIBLE_COLLECTIONS_PATH=coll + ':' + os.environ.get('COMPAT_ANSIBLE_COLLECTIONS', ANSIBLE_COLLECTIONS),
             ANSIBLE_RETRY_FILES_ENABLED='False',
             ANSIBLE_LOCAL_TEMP=os.path.join(work, 'ansible-tmp'), ANSIBLE_DEPRECATION_WARNINGS='False')
    t = dict(base, TSPLAY_COLLECTIONS_PATH=coll, ANSIBLE_COLLECTIONS_PATH=coll)
    return a, t


def status_of(res):
    if res.get('unreachable'):
        return 'unreachable'
    if res.get('failed') or res.get('failed_when_result'):
        return 'ignored' if res.get('_ignored') else 'failed'
    if res.get('skipped'):
        return 'skipped'
    return 'changed' if res.get('changed') else 'ok'


def strip_role(name):
    """The name both tools give a task: without the role prefix, include_tasks without its
    target, a module without ansible.builtin."""
    n = re.sub(r'^[\w.\-]+ : ', '', name or '')
    n = re.sub(r'^(include_tasks|include_role|import_tasks|import_role): .*$', r'\1', n)
    return re.sub(r'^ansible\.builtin\.', '', n)


def ansible_outcome(rc, out, err):
    """Reads the compat_json callback's lines (callback_plugins/ beside this file)."""
    tasks, started = [], False
    for line in out.splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if ev.get('type') == 'play_start':
            started = True
        elif ev.get('type') == 'host_result':
            tasks.append((strip_role(ev['task']), ev['status'], ev.get('msg')))
    return {'loads': started, 'rc': rc, 'tasks': tasks, 'errors': [] if started else [first_error(err or out)]}


def tsplay_outcome(rc, out, err):
    tasks, started, errors = [], False, []
    current, included = None, False
    for line in out.splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if ev.get('type') == 'play_start':
            started = True
        if ev.get('type') == 'task_start':
            current, included = ev.get('name'), False
        # an include that ran is one 'ok' result under Ansible; tsplay says 'included: ...'
        if ev.get('type') == 'include' and not included:
            included = True
            tasks.append((strip_role(current), 'ok', None))
        if ev.get('type') == 'host_result':
            r = ev.get('result') or {}
            st = ev.get('status')
            if st == 'failed' and ev.get('ignored'):
                st = 'ignored'
            tasks.append((strip_role(ev.get('task')), st, r.get('msg') or ev.get('msg')))
    if not started:
        errors = [l for l in (err or '').splitlines() if l.startswith('ERROR')] or [first_error(err)]
    return {'loads': started, 'rc': rc, 'tasks': tasks, 'errors': errors}


def first_error(text):
    for l in (text or '').splitlines():
        if 'ERROR' in l:
            return l.strip()[:300]
    return (text or '').strip().splitlines()[0][:300] if (text or '').strip() else 'no output'


def align(a, b):
    """Pairs Ansible's and tsplay's task results by name, in order."""
    sm = difflib.SequenceMatcher(a=[x[0] for x in a], b=[x[0] for x in b], autojunk=False)
    same, pairs = 0, []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == 'equal':
            for i, j in zip(range(i1, i2), range(j1, j2)):
                pairs.append((a[i], b[j]))
                same += a[i][1] == b[j][1]
        else:
            for i in range(i1, i2):
                pairs.append((a[i], None))
            for j in range(j1, j2):
                pairs.append((None, b[j]))
    return same, pairs


def cause(msg):
    """One short label per divergence, so the summary can rank them."""
    m = str(msg or '')
    for pat, lab in [
        (r"unknown module '([^']+)'", 'module {}'), (r"couldn't resolve module/action '([^']+)'", 'module {}'),
        (r"unknown filter '?([\w.]+)", 'filter {}'), (r"filter '([^']+)' (?:is )?not", 'filter {}'),
        (r"unknown test '?([\w.]+)", 'test {}'), (r"lookup '?([\w.]+)'? (?:is )?(?:not|unknown|unsupported)", 'lookup {}'),
        (r"unknown lookup '?([\w.]+)", 'lookup {}'), (r"unsupported (?:keyword|construct|tag) '?([^' ]+)", 'unsupported {}'),
        (r"unknown keyword '([^']+)'", 'keyword {}'), (r"unknown argument '([^']+)'", 'argument {}'),
        (r"'([^']+)' is undefined", 'undefined var'), (r"undefined variable", 'undefined var'),
        (r"role '([^']+)' not found", 'role not found'), (r"\{% (\w+) %\} is not supported", 'template {{% {} %}}'),
        (r"unknown tag '?(\w+)", 'template {{% {} %}}'), (r"template syntax error: (.{0,60})", 'template syntax: {}'),
    ]:
        mm = re.search(pat, m, re.I)
        if mm:
            return lab.format(mm.group(mm.lastindex or 0)) if '{}' in lab else lab
    m = re.sub(r'/[\w./+\-]+', 'PATH', m)
    m = re.sub(r'\d+', 'N', m)
    return m[:90] or 'no message'


def play(entry, role_vars):
    return [{'hosts': 'localhost', 'gather_facts': True, 'vars': role_vars, 'roles': [{'role': entry['role']}]}]


def templates_of(rdir):
    out = []
    tdir = os.path.join(rdir, 'templates')
    for root, _, files in os.walk(tdir):
        for f in sorted(files):
            if f.endswith('.j2'):
                out.append(os.path.relpath(os.path.join(root, f), tdir))
    return sorted(out)


def render_play(rdir, entry, tpls, outdir):
    vf = [os.path.join(rdir, v) for v in entry.get('render_vars') or [] if os.path.exists(os.path.join(rdir, v))]
    vars_ = dict(entry.get('vars') or {}, **(entry.get('render_extra') or {}))
    tasks = [{'name': 'render %s' % t, 'ignore_errors': True,
              'template': {'src': os.path.join(rdir, 'templates', t), 'dest': os.path.join(outdir, t.replace('/', '__'))}}
             for t in tpls]
    return [{'hosts': 'localhost', 'gather_facts': True, 'vars_files': vf, 'vars': vars_, 'tasks': tasks}]


def compare_templates(work, rdir, entry, aenv, tenv, timeout):
    tpls = templates_of(rdir)
    res = {'count': len(tpls), 'ansible_ok': 0, 'identical': 0, 'differ': [], 'causes': []}
    if not tpls:
        return res
    aout, tout = os.path.join(work, 'tpl-ansible'), os.path.join(work, 'tpl-tsplay')
    os.makedirs(aout)
    os.makedirs(tout)
    dump(os.path.join(work, 'render-a.yml'), render_play(rdir, entry, tpls, aout))
    run(['ansible-playbook', '-i', 'hosts', 'render-a.yml'], aenv, work, timeout)
    # tsplay validates every template before it runs: one play per template, so that one
    # template it cannot load does not hide the others
    terr = {}
    dump(os.path.join(work, 'render-t.yml'), render_play(rdir, entry, tpls, tout))
    rc, out, err = run([TSPLAY, 'run', 'render-t.yml', '-i', 'hosts', '--format', 'json'], tenv, work, timeout)
    whole = tsplay_outcome(rc, out, err)
    for name, st, msg in whole['tasks']:
        if st in ('failed', 'ignored') and name.startswith('render '):
            terr[name[len('render '):]] = msg
    if not whole['loads']:
        for i, t in enumerate(tpls):
            p = 'render-t%d.yml' % i
            dump(os.path.join(work, p), render_play(rdir, entry, [t], tout))
            rc, out, err = run([TSPLAY, 'run', p, '-i', 'hosts', '--format', 'json'], tenv, work, timeout)
            o = tsplay_outcome(rc, out, err)
            if not o['loads']:
                terr[t] = o['errors'][0] if o['errors'] else 'does not load'
            elif o['tasks'] and o['tasks'][-1][1] in ('failed', 'ignored'):
                terr[t] = o['tasks'][-1][2]
    for t in tpls:
        fa, ft = os.path.join(aout, t.replace('/', '__')), os.path.join(tout, t.replace('/', '__'))
        if not os.path.exists(fa):
            continue
        res['ansible_ok'] += 1
        if os.path.exists(ft) and open(fa, 'rb').read() == open(ft, 'rb').read():
            res['identical'] += 1
            continue
        if os.path.exists(ft):
            why = 'rendered text differs'
        else:
            why = terr.get(t) or 'not rendered'
        res['differ'].append((t, why))
        res['causes'].append('template: ' + (why if os.path.exists(ft) else cause(why)))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--corpus', default=os.environ.get('COMPAT_CORPUS', '/root/compat-corpus'))
    ap.add_argument('--work', default='/tmp/compat-run')
    ap.add_argument('--only', help='comma-separated role ids')
    ap.add_argument('--timeout', type=int, default=600)
    ap.add_argument('--json', help='write the detailed results here')
    ap.add_argument('-v', action='store_true', help='print every diverging task')
    args = ap.parse_args()
    cfg = yaml.safe_load(open(os.path.join(HERE, 'corpus.yml')))
    entries = [e for e in cfg['roles'] if not args.only or e['id'] in args.only.split(',')]
    results, causes = [], Counter()
    tot = Counter()
    for e in entries:
        rdir = os.path.join(args.corpus, e['dir'])
        if not os.path.isdir(rdir):
            print('%-20s missing from the corpus (%s)' % (e['id'], rdir))
            continue
        work = os.path.join(args.work, e['id'])
        setup_dirs(work, args.corpus, cfg, e)
        aenv, tenv = envs(work)
        dump(os.path.join(work, 'play.yml'), play(e, e.get('vars') or {}))
        a = ansible_outcome(*run(['ansible-playbook', '-i', 'hosts', 'play.yml', '--check'], aenv, work, args.timeout))
        t = tsplay_outcome(*run([TSPLAY, 'run', 'play.yml', '-i', 'hosts', '--check', '--format', 'json'], tenv, work, args.timeout))
        same, pairs = align(a['tasks'], t['tasks'])
        why = []
        if not t['loads']:
            why += ['load: ' + cause(x) for x in t['errors']]
        else:
            for pa, pt in pairs:
                if pa and pt and pa[1] == pt[1]:
                    continue
                if pt is None:
                    why.append('task: not run by tsplay')
                elif pa is None:
                    why.append('task: run by tsplay only')
                elif pt[1] == 'failed':
                    why.append('task: ' + cause(pt[2]))
                else:
                    why.append('task: %s vs %s' % (pa[1], pt[1]))
        tp = compare_templates(work, rdir, e, aenv, tenv, args.timeout)
        why += tp['causes']
        causes.update(why)
        identical = a['loads'] == t['loads'] and same == len(a['tasks']) == len(t['tasks']) and (a['rc'] == 0) == (t['rc'] == 0)
        tot['roles'] += 1
        tot['a_load'] += a['loads']
        tot['t_load'] += t['loads']
        tot['same_outcome'] += identical
        tot['tasks'] += len(a['tasks'])
        tot['same_tasks'] += same
        tot['tpl'] += tp['count']
        tot['tpl_ansible'] += tp['ansible_ok']
        tot['tpl_same'] += tp['identical']
        print('%-20s ansible: %-5s %3d tasks rc=%-3s  tsplay: %-5s %3d tasks rc=%-3s  same tasks %3d  templates %d/%d%s' % (
            e['id'], 'loads' if a['loads'] else 'NO', len(a['tasks']), a['rc'], 'loads' if t['loads'] else 'NO',
            len(t['tasks']), t['rc'], same, tp['identical'], tp['ansible_ok'], '  SAME' if identical else ''))
        if args.v:
            for x in t['errors']:
                print('    tsplay: %s' % x)
            for pa, pt in pairs:
                if not (pa and pt and pa[1] == pt[1]):
                    print('    %-60s ansible=%-8s tsplay=%-8s %s' % (((pa or pt)[0])[:60], pa and pa[1], pt and pt[1],
                                                                   str((pt or pa)[2] or '')[:160].replace('\n', ' ')))
            for tn, w in tp['differ']:
                print('    template %s: %s' % (tn, str(w)[:200]))
        results.append({'id': e['id'], 'ansible': a, 'tsplay': t, 'same_tasks': same, 'templates': tp, 'same': identical})
    n = tot['roles'] or 1
    print('\nroles: %d (Ansible loads %d)' % (tot['roles'], tot['a_load']))
    print('roles that load under tsplay:        %d/%d (%d%%)' % (tot['t_load'], tot['roles'], 100 * tot['t_load'] // n))
    print('roles with the same outcome:         %d/%d (%d%%)' % (tot['same_outcome'], tot['roles'], 100 * tot['same_outcome'] // n))
    print('templates byte-identical:            %d/%d (%d%%) (of %d; the others Ansible cannot render with the role\'s files alone)' % (
        tot['tpl_same'], tot['tpl_ansible'], 100 * tot['tpl_same'] // (tot['tpl_ansible'] or 1), tot['tpl']))
    print('tasks with the same outcome:         %d/%d (%d%%) (Ansible\'s task results)' % (
        tot['same_tasks'], tot['tasks'], 100 * tot['same_tasks'] // (tot['tasks'] or 1)))
    print('\ncauses of divergence (ranked):')
    for c, k in causes.most_common(40):
        print('  %4d  %s' % (k, c))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'totals': tot, 'causes': causes.most_common(), 'roles': results}, f, indent=1, default=str)
    return 0


if __name__ == '__main__':
    sys.exit(main())
