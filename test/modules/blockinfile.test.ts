import * as fs from 'fs';
import * as path from 'path';
import blockinfile, { editBlock, type BlockEdit } from '../../modules/blockinfile';
import { FakeRemote, LocalRemote, makeTempDir, runModule, validateArgs } from '../helpers/fake-remote';

const B = '# BEGIN ANSIBLE MANAGED BLOCK\n';
const E = '# END ANSIBLE MANAGED BLOCK\n';

describe('editBlock (Ansible blockinfile semantics, checked against ansible-core 2.14)', () => {
  const cases: Array<[string, string, BlockEdit, string, string]> = [
    ['new block at EOF; a last line without newline gets one', 'a\nb', { block: 'x\ny' }, `a\nb\n${B}x\ny\n${E}`, 'Block inserted'],
    ['existing block replaced in place, CRLF inside the block kept', `x\n${B}old\n${E}y\n`, { block: 'new\r\nline2' }, `x\n${B}new\r\nline2\n${E}y\n`, 'Block inserted'],
    ['insertafter: after the LAST matching line', 'a\nfoo\nb\nfoo\n', { block: 'B', insertafter: '^foo$' }, `a\nfoo\nb\nfoo\n${B}B\n${E}`, 'Block inserted'],
    ['insertbefore: before the last matching line', 'foo\na\nfoo\nb\n', { block: 'B', insertbefore: '^foo' }, `foo\na\n${B}B\n${E}foo\nb\n`, 'Block inserted'],
    ['insertbefore BOF', 'a\n', { block: 'B', insertbefore: 'BOF' }, `${B}B\n${E}a\n`, 'Block inserted'],
    ['no matching anchor: at the end', 'a\n', { block: 'B', insertafter: '^zzz' }, `a\n${B}B\n${E}`, 'Block inserted'],
    ['state absent removes markers and block', `a\n${B}x\n${E}b\n`, { state: 'absent' }, 'a\nb\n', 'Block removed'],
    ['an empty block removes too', `a\n${B}x\n${E}`, { block: '' }, 'a\n', 'Block removed'],
    ['absent without markers still ends the last line (as Ansible does)', 'abc', { state: 'absent' }, 'abc\n', 'Block removed'],
    ['custom markers; markers in reverse order are one block', '<!-- END x -->\nmid\n<!-- BEGIN x -->\n', { marker: '<!-- {mark} x -->', block: 'k' }, '<!-- BEGIN x -->\nk\n<!-- END x -->\n', 'Block inserted'],
    ['marker_begin/marker_end', 'a\n', { marker: '# {mark} m', marker_begin: 'START', marker_end: 'STOP', block: 'k' }, 'a\n# START m\nk\n# STOP m\n', 'Block inserted'],
  ];
  it.each(cases)('%s', (_n, text, o, want, msg) => {
    expect(editBlock(text, o)).toEqual({ text: want, changed: true, msg });
  });

  it('no change when the block is already there, or absent and gone', () => {
    expect(editBlock(`a\n${B}x\n${E}`, { block: 'x\n' })).toEqual({ text: `a\n${B}x\n${E}`, changed: false, msg: '' });
    expect(editBlock('a\n', { state: 'absent' }).changed).toBe(false);
  });
});

describe('blockinfile (fake host)', () => {
  const host = (): FakeRemote => new FakeRemote().addDir('/etc').addFile('/etc/hosts', `127.0.0.1 localhost\n${B}10.0.0.1 db1\n${E}`, { mode: '0644' });

  it('no change: the block is there -> one stat and one read, nothing else', async () => {
    const r = host();
    const res = await runModule(blockinfile, { path: '/etc/hosts', block: '10.0.0.1 db1' }, r);
    expect([res.changed, r.mutations, r.roundTrips]).toEqual([false, 0, 2]);
  });

  it('drift: one write of the new text with the file attributes', async () => {
    const r = host();
    const res = await runModule(blockinfile, { path: '/etc/hosts', block: '10.0.0.1 db1\n10.0.0.2 db2\n', backup: true }, r);
    expect(res.registered.msg).toBe('Block inserted');
    expect(r.writes).toEqual([
      { path: '/etc/hosts', data: Buffer.from(`127.0.0.1 localhost\n${B}10.0.0.1 db1\n10.0.0.2 db2\n${E}`), opts: { mode: '0644', owner: 'root', group: 'root', backup: true, validate: undefined } },
    ]);
  });

  it('create: a missing file is created, even for an empty block ("File created"); without create it fails', async () => {
    const r = host();
    const res = await runModule(blockinfile, { path: '/etc/new.conf', block: '', create: true, mode: '0600' }, r);
    expect([res.changed, res.registered.msg]).toEqual([true, 'File created']);
    expect(r.writes[0]).toMatchObject({ path: '/etc/new.conf', data: Buffer.from(''), opts: { mode: '0600' } });
    await expect(runModule(blockinfile, { path: '/etc/none', block: 'x' }, host())).rejects.toThrow('Path /etc/none does not exist !');
    expect((await runModule(blockinfile, { path: '/etc/none', state: 'absent' }, host())).changed).toBe(false);
  });

  it('check mode: diff shown, no mutation', async () => {
    const r = host();
    const res = await runModule(blockinfile, { path: '/etc/hosts', state: 'absent' }, r, { check: true, diff: true });
    expect(res.diffs?.[0].after).toBe('127.0.0.1 localhost\n');
    expect(r.mutations).toBe(0);
  });

  it('bad arguments: both anchors, a marker without {mark}, a multi-line marker, an unsupported pattern', async () => {
    expect(validateArgs(blockinfile, { path: '/etc/hosts', block: 'x', insertafter: 'a', insertbefore: 'b' }).valid).toBe(false);
    expect(validateArgs(blockinfile, { path: '/etc/hosts', marker: '# fixed' }).valid).toBe(false);
    const r = host();
    await expect(runModule(blockinfile, { path: '/etc/hosts', marker: '# {mark}\nx', block: 'x' }, r)).rejects.toThrow(/single lines/);
    await expect(runModule(blockinfile, { path: '/etc/hosts', block: 'x', insertafter: '(?x) a' }, r)).rejects.toThrow(/verbose mode/);
    expect(r.mutations).toBe(0);
  });
});

describe('blockinfile (local connection)', () => {
  it('a real file: inserted, idempotent, then removed; validate runs on the temp file', async () => {
    const dir = makeTempDir();
    const f = path.join(dir, 'sshd $(x).conf');
    fs.writeFileSync(f, 'Port 22\n');
    const args = { path: f, block: "Match User 'op'\n  X11Forwarding no", insertbefore: '^Port', validate: 'grep -q Match %s' };
    expect((await runModule(blockinfile, args, new LocalRemote())).changed).toBe(true);
    expect(fs.readFileSync(f, 'utf8')).toBe(`${B}Match User 'op'\n  X11Forwarding no\n${E}Port 22\n`);
    expect((await runModule(blockinfile, args, new LocalRemote())).changed).toBe(false);
    expect((await runModule(blockinfile, { path: f, state: 'absent' }, new LocalRemote())).changed).toBe(true);
    expect(fs.readFileSync(f, 'utf8')).toBe('Port 22\n');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
