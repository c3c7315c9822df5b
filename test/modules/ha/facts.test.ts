import packageFacts, { factsScript } from '../../../modules/package_facts';
import serviceFacts, { SCRIPT } from '../../../modules/service_facts';
import { FakeHost, LocalHost, readOnly, runTask, validate } from './fake';

describe('package_facts', () => {
  test('real dpkg on this machine: Ansible\'s shape, one read-only query, no change', async () => {
    const h = readOnly(new LocalHost());
    const r = await runTask(packageFacts, {}, h, { check: true });
    expect(r.changed).toBe(false);
    const pk = (r.result.ansible_facts as { packages: Record<string, Array<Record<string, unknown>>> }).packages;
    expect(pk.bash[0]).toMatchObject({ name: 'bash', source: 'apt', arch: expect.any(String), version: expect.stringMatching(/^\d/) });
    expect(pk['tsplay-no-such-package']).toBeUndefined();
    expect(h.violations).toEqual([]);
  });

  test('rpm: name, version, release, epoch, arch; several versions of one name are a list', async () => {
    const out = 'have rpm\nrpm\tkernel\t5.14.0\tx86_64\t362.8.1.el9_3\t(none)\nrpm\tkernel\t5.14.0\tx86_64\t362.13.1.el9_3\t(none)\nrpm\tbind\t9.16.23\tx86_64\t14.el9\t32\n';
    const h = new FakeHost().onQuery(/./, { stdout: out });
    const r = await runTask(packageFacts, { manager: 'rpm' }, h);
    expect(h.cmds('query')).toEqual([factsScript({ manager: 'rpm', strategy: 'first' })]);
    expect(r.result.ansible_facts).toEqual({
      packages: {
        kernel: [
          { name: 'kernel', version: '5.14.0', arch: 'x86_64', release: '362.8.1.el9_3', epoch: null, source: 'rpm' },
          { name: 'kernel', version: '5.14.0', arch: 'x86_64', release: '362.13.1.el9_3', epoch: null, source: 'rpm' },
        ],
        bind: [{ name: 'bind', version: '9.16.23', arch: 'x86_64', release: '14.el9', epoch: 32, source: 'rpm' }],
      },
    });
  });

  test('bad arguments and a host without the manager', async () => {
    expect(validate(packageFacts, { manager: 'portage' }).valid).toBe(false);
    expect(validate(packageFacts, { strategy: 'some' }).valid).toBe(false);
    await expect(runTask(packageFacts, { manager: 'rpm' }, new FakeHost().onQuery(/./, { stdout: '' }))).rejects.toThrow('package_facts: no rpm on db1');
  });
});

describe('service_facts', () => {
  const OUT = [
    'units',
    'cron.service loaded active running Regular background program processing daemon',
    'nginx.service loaded failed failed A high performance web server',
    'ssh.service loaded inactive dead OpenBSD Secure Shell server',
    'gone.service not-found inactive dead gone.service',
    'files',
    'cron.service enabled enabled',
    'nginx.service enabled enabled',
    'ssh.service disabled enabled',
    'getty@.service enabled enabled',
    'rsync.service disabled enabled',
  ].join('\n');

  test('Ansible\'s shape and rules: running/stopped, status from the unit file unless failed/not-found', async () => {
    const h = readOnly(new FakeHost().onQuery(SCRIPT, { stdout: OUT }));
    const r = await runTask(serviceFacts, {}, h, { check: true });
    expect(r.changed).toBe(false);
    expect(r.result.ansible_facts).toEqual({
      services: {
        'cron.service': { name: 'cron.service', state: 'running', status: 'enabled', source: 'systemd' },
        'nginx.service': { name: 'nginx.service', state: 'stopped', status: 'failed', source: 'systemd' },
        'ssh.service': { name: 'ssh.service', state: 'stopped', status: 'disabled', source: 'systemd' },
        'gone.service': { name: 'gone.service', state: 'stopped', status: 'not-found', source: 'systemd' },
        'getty@.service': { name: 'getty@.service', state: 'unknown', status: 'enabled', source: 'systemd' },
        'rsync.service': { name: 'rsync.service', state: 'inactive', status: 'disabled', source: 'systemd' },
      },
    });
    expect(h.violations).toEqual([]);
  });

  test('no systemd: a clear failure; no arguments are taken', async () => {
    await expect(runTask(serviceFacts, {}, new FakeHost().onQuery(/./, { rc: 127, stderr: 'sh: systemctl: not found' }))).rejects.toThrow('service_facts: no systemctl on db1');
    await expect(runTask(serviceFacts, {}, new FakeHost().onQuery(/./, { rc: 1, stderr: 'Failed to connect to bus' }))).rejects.toThrow(/systemctl failed on db1 \(rc=1\): Failed to connect to bus/);
    expect(validate(serviceFacts, { name: 'x' }).valid).toBe(false);
  });
});
