/**
 * Issue 5 acceptance on the staging lab: playbooks/ha.yml deploys the Patroni HA stack.
 *
 * The lab must be up (npm test wraps the suite in test/with-lab.sh) and FRESH: the steps build
 * on each other in this fixed order (dry run on fresh hosts, real run, rerun, dry rerun, bad
 * inventories, reuse of single roles), and CI brings up a new lab for the suite. A lab where
 * ha.yml ran already is refused with a message instead of giving a meaningless step 1
 * (bring it down and up again: test/lab/lab down && test/lab/lab up).
 *
 * Every check after the real run is made from outside the roles: etcdctl, patronictl and
 * systemctl on the hosts, psql and curl from this machine.
 */
import fs from 'fs';
import path from 'path';
import { spawnSync } from 'child_process';
import { ROOT } from '../helpers/run-tsplay';
import {
  changedPerHost,
  changedResults,
  copyLabInventory,
  hostTreeHash,
  IMPORTANT_DIRS,
  LAB_HOSTS,
  LAB_INVENTORY,
  labExec,
  labIp,
  labIsUp,
  labSh,
  runPlaybook,
  tail,
} from './helpers-lab';

const HA = 'playbooks/ha.yml';
const STEP_MS = 15 * 60_000;
const HA_USER = 'hauser';
const SUPERUSER_PASSWORD = 'lab-superuser-pw';
const STATS = 'admin:lab-stats-pw';
const OBSERVER = labIp('lab3');
const FIXTURES = path.join(ROOT, 'test', 'e2e', 'fixtures');

const times: Record<string, number> = {};

function report(line: string): void {
  process.stdout.write(`[ha e2e] ${line}\n`);
}

/** psql from this machine (the lab's PostgreSQL client is the machine's own). */
function psql(port: number, sql: string): { code: number; out: string; err: string } {
  const r = spawnSync('psql', ['-h', OBSERVER, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-AtX', '-c', sql], {
    encoding: 'utf8',
    env: { ...process.env, PGPASSWORD: SUPERUSER_PASSWORD, PGCONNECT_TIMEOUT: '5' },
    timeout: 30_000,
  });
  return { code: r.status ?? -1, out: (r.stdout ?? '').trim(), err: r.stderr ?? '' };
}

function curl(args: string[]): { code: number; out: string } {
  const r = spawnSync('curl', ['-sS', '-m', '10', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, out: r.stdout ?? '' };
}

/** Polls `probe` until it returns true (the cluster settles asynchronously after a run). */
async function eventually(what: string, probe: () => boolean, seconds = 60): Promise<void> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    if (probe()) return;
    if (Date.now() > end) throw new Error(`not true after ${seconds} s: ${what}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

beforeAll(async () => {
  // an earlier suite may have just powered a host off and on again: give it a minute
  await eventually('the staging lab is up (test/lab/lab up, or npm test, which brings it up)', labIsUp, 90);
  const deployed = labExec('lab1', "grep -qs 'Managed by tsplay' /etc/patroni/config.yml /etc/default/etcd");
  if (deployed.code === 0) {
    throw new Error('the lab is not fresh (ha.yml ran on it already): test/lab/lab down && test/lab/lab up, then run this suite again');
  }
}, 120_000);

afterAll(() => {
  const shown = Object.entries(times).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ');
  if (shown) report(`wall times: ${shown}`);
});

test('1. --check --diff on the fresh lab lists every change and changes nothing', () => {
  const before = Object.fromEntries(LAB_HOSTS.map((h) => [h, hostTreeHash(h, IMPORTANT_DIRS)]));
  const run = runPlaybook(HA, [LAB_INVENTORY], ['--check', '--diff']);
  times['step 1 (--check --diff)'] = run.seconds;
  report(`step 1: --check --diff on the fresh lab: ${run.seconds.toFixed(1)} s, exit ${run.code}`);
  expect({ code: run.code, out: run.code === 0 ? '' : tail(run) }).toEqual({ code: 0, out: '' });

  // every host has something to change, and the files come with their diffs
  const changed = changedPerHost(run);
  for (const h of LAB_HOSTS) expect([h, changed[h] > 0]).toEqual([h, true]);
  const diffOf = (host: string, path: string): string => {
    const r = changedResults(run).find((e) => e.host === host && (e.diff ?? []).some((d: any) => d.path === path));
    if (!r) throw new Error(`no diff for ${path} on ${host}`);
    return r.diff.find((d: any) => d.path === path).after as string;
  };
  expect(diffOf('lab1', '/etc/default/etcd')).toContain(
    'ETCD_INITIAL_CLUSTER="lab1=http://198.18.0.11:2380,lab2=http://198.18.0.12:2380,lab3=http://198.18.0.13:2380"',
  );
  expect(diffOf('lab2', '/etc/default/etcd')).toContain('ETCD_NAME="lab2"');
  const patroni = diffOf('lab2', '/etc/patroni/config.yml');
  expect(patroni).toContain('listen: 198.18.0.12,127.0.0.1:5432');
  expect(patroni).toContain('synchronous_mode: true');
  const haproxy = diffOf('lab3', '/etc/haproxy/haproxy.cfg');
  expect(haproxy).toMatch(/listen postgres_primary\n\s+bind \*:5000\n\s+option httpchk GET \/primary/);
  expect(haproxy).toMatch(/server lab2 198\.18\.0\.12:5432 check port 8008/);
  expect(diffOf('lab3', '/etc/systemd/system/ha-observer.service')).toContain('User=hauser');
  expect(diffOf('lab3', '/opt/HA/observer/observer.conf')).toContain("APP_NODES='lab4=198.18.0.14 lab5=198.18.0.15'\n");
  expect(diffOf('lab3', '/opt/HA/observer/ssh/known_hosts')).toMatch(/^198\.18\.0\.15 ssh-ed25519 AAAA\S+$/m);
  expect(diffOf('lab5', '/etc/sudoers.d/hauser')).toContain('hauser ALL=(root) NOPASSWD: /usr/bin/systemctl start nginx');
  // the services it would start
  const starts = changedResults(run).filter((e) => /started and enabled|starts at boot|runs on the master|runs on the active|master first|on the replicas/.test(e.task));
  expect(new Set(starts.map((e) => `${e.host} ${e.task.split(' : ')[0]}`))).toEqual(
    new Set(['lab1 etcd', 'lab2 etcd', 'lab3 etcd', 'lab1 patroni', 'lab2 patroni', 'lab3 haproxy', 'lab3 app-ha', 'lab4 app-ha']),
  );

  const after = Object.fromEntries(LAB_HOSTS.map((h) => [h, hostTreeHash(h, IMPORTANT_DIRS)]));
  expect(after).toEqual(before);
  for (const h of ['lab1', 'lab2', 'lab3']) expect([h, labExec(h, 'systemctl is-active etcd').stdout.trim()]).toEqual([h, 'inactive']);
}, STEP_MS);

test('2. the real run deploys a working stack', async () => {
  const run = runPlaybook(HA, [LAB_INVENTORY]);
  times['step 2 (deploy)'] = run.seconds;
  report(`step 2: real run: ${run.seconds.toFixed(1)} s, exit ${run.code}`);
  expect({ code: run.code, out: run.code === 0 ? '' : tail(run) }).toEqual({ code: 0, out: '' });

  // etcd: three healthy members
  const health = labExec('lab1', 'ETCDCTL_API=3 etcdctl --endpoints=198.18.0.11:2379,198.18.0.12:2379,198.18.0.13:2379 endpoint health 2>&1');
  expect(health.stdout.match(/is healthy/g)?.length).toBe(3);
  const members = labSh('lab2', 'ETCDCTL_API=3 etcdctl --endpoints=127.0.0.1:2379 member list');
  expect(members.trim().split('\n').map((l) => l.split(', ')[2]).sort()).toEqual(['lab1', 'lab2', 'lab3']);
  // after the bootstrap the file says "existing", so a member restarted without data never founds a new cluster
  expect(labSh('lab3', 'cat /etc/default/etcd')).toContain('ETCD_INITIAL_CLUSTER_STATE="existing"');

  // Patroni: one leader (the master, on a fresh cluster) and a streaming replica
  await eventually('patronictl shows a leader and a streaming replica', () => {
    const r = labExec('lab1', 'patronictl -c /etc/patroni/config.yml list -f json');
    if (r.code !== 0) return false;
    const list = JSON.parse(r.stdout) as Array<Record<string, any>>;
    const leaders = list.filter((m) => m.Role === 'Leader');
    const replicas = list.filter((m) => m.Role !== 'Leader');
    return list.length === 2 && leaders.length === 1 && leaders[0].Member === 'lab1' &&
      replicas.length === 1 && replicas[0].Member === 'lab2' && ['running', 'streaming'].includes(replicas[0].State);
  });
  const streams = labSh('lab1', `runuser -u postgres -- psql -AtX -c "select application_name, state, sync_state from pg_stat_replication"`);
  expect(streams.trim()).toBe('lab2|streaming|sync'); // synchronous_mode: the replica is the sync standby

  // through the observer's HAProxy, from this machine
  await eventually('psql through :5000 reaches the leader', () => psql(5000, 'select pg_is_in_recovery()').out === 'f');
  await eventually('psql through :5001 reaches a replica', () => psql(5001, 'select pg_is_in_recovery()').out === 't');
  expect(psql(5000, 'select inet_server_addr()').out).toBe('198.18.0.11');
  expect(psql(5001, 'select inet_server_addr()').out).toBe('198.18.0.12');
  const stats = curl(['-u', STATS, `http://${OBSERVER}:7000/;csv`]);
  expect(stats.code).toBe(0);
  expect(stats.out).toMatch(/^postgres_primary,lab1,(?:[^,]*,){15}UP,/m);
  expect(stats.out).toMatch(/^postgres_replicas,lab2,(?:[^,]*,){15}UP,/m);
  expect(curl(['-o', '/dev/null', '-w', '%{http_code}', `http://${OBSERVER}:7000/`]).out).toBe('401');

  // application tier: nginx on the master only, and not enabled for boot on the slave
  expect(labExec('lab4', 'systemctl is-active nginx; systemctl is-enabled nginx').stdout.split('\n').slice(0, 2)).toEqual(['active', 'enabled']);
  expect(labExec('lab5', 'systemctl is-active nginx; systemctl is-enabled nginx').stdout.split('\n').slice(0, 2)).toEqual(['inactive', 'disabled']);

  // the observer runs as the HA user, not root
  const observer = labSh('lab3', 'systemctl is-active ha-observer; ps -o user:32= -p "$(systemctl show -p MainPID --value ha-observer)"');
  expect(observer.split('\n').map((s) => s.trim()).slice(0, 2)).toEqual(['active', HA_USER]);
  await eventually('the observer logs that the master application is up', () =>
    labExec('lab3', 'journalctl -u ha-observer --no-pager -o cat').stdout.includes('master application lab4 up (http://198.18.0.14/)'));
  // the application through the observer's HAProxy: served by the master, which HAProxy names
  const app = curl(['-o', '/dev/null', '-D', '-', `http://${OBSERVER}:8080/`]);
  expect(app.out).toMatch(/^HTTP\/1\.1 200/);
  expect(app.out).toMatch(/^x-app-node: lab4\r?$/im);
  // the observer's key reaches the application nodes as the HA user, with host keys checked
  const viaObserver = labExec('lab3', `runuser -u ${HA_USER} -- ssh -n -i /opt/HA/observer/ssh/id_ed25519 -o UserKnownHostsFile=/opt/HA/observer/ssh/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes ${HA_USER}@198.18.0.15 'id -un; sudo -n -l /usr/bin/systemctl start nginx'`);
  expect(viaObserver.stdout.split('\n').slice(0, 2)).toEqual([HA_USER, '/usr/bin/systemctl start nginx']);

  // /opt/HA belongs to the HA user everywhere; the user has sudo (the drop-in) and is not root
  for (const h of LAB_HOSTS) {
    const r = labSh(h, `stat -c %U:%G /opt/HA; find /opt/HA ! -user ${HA_USER} | wc -l; id -u ${HA_USER}; sudo -l -U ${HA_USER} | grep -c NOPASSWD`);
    const [owner, foreign, uid, sudo] = r.trim().split('\n');
    expect([h, owner, foreign, uid !== '0', Number(sudo) > 0]).toEqual([h, `${HA_USER}:${HA_USER}`, '0', true, true]);
  }

  // the observer's log is rotated by logrotate (the role's drop-in, validated with logrotate -d).
  // Forced here: the old file is kept and the new one belongs to the HA user; the drills (step 6)
  // find their lines in the new file, so the observer went on writing after the rotation.
  const rotated = labSh('lab3', "logrotate -f /etc/logrotate.d/ha-observer && stat -c '%U:%G %a %n' /opt/HA/log/observer.log /opt/HA/log/observer.log.1");
  expect(rotated.trim().split('\n')).toEqual([`${HA_USER}:${HA_USER} 640 /opt/HA/log/observer.log`, expect.stringMatching(new RegExp(`^${HA_USER}:${HA_USER} \\d+ /opt/HA/log/observer\\.log\\.1$`))]);
}, STEP_MS);

test('3. the same run again changes nothing', () => {
  const run = runPlaybook(HA, [LAB_INVENTORY]);
  times['step 3 (rerun)'] = run.seconds;
  report(`step 3: rerun: ${run.seconds.toFixed(1)} s, exit ${run.code}`);
  expect({ code: run.code, out: run.code === 0 ? '' : tail(run) }).toEqual({ code: 0, out: '' });
  const changed = changedResults(run).map((e) => `${e.host} ${e.task}`);
  expect(changed).toEqual([]);
  expect(changedPerHost(run)).toEqual(Object.fromEntries(LAB_HOSTS.map((h) => [h, 0])));
}, STEP_MS);

test('4. --check after that changes nothing either', () => {
  const run = runPlaybook(HA, [LAB_INVENTORY], ['--check']);
  times['step 4 (--check on the deployed lab)'] = run.seconds;
  expect({ code: run.code, out: run.code === 0 ? '' : tail(run) }).toEqual({ code: 0, out: '' });
  expect(changedResults(run).map((e) => `${e.host} ${e.task}`)).toEqual([]);
  expect(changedPerHost(run)).toEqual(Object.fromEntries(LAB_HOSTS.map((h) => [h, 0])));
}, STEP_MS);

describe('5. a bad inventory fails in preflight, before any change', () => {
  /** Runs ha.yml for real on a broken inventory and checks it stopped in preflight. */
  function expectPreflightFailure(inventory: string, problem: RegExp): void {
    const run = runPlaybook(HA, [inventory]);
    expect(run.code).toBe(2);
    const verdict = run.events.find((e) => e.type === 'host_result' && e.task === 'preflight : preflight verdict' && e.status === 'failed');
    if (!verdict) throw new Error(`no preflight verdict failure\n${tail(run)}`);
    expect(verdict.msg).toMatch(problem);
    // nothing after preflight ran on any host, and nothing changed
    const later = run.events.filter((e) => e.type === 'host_result' && !/^preflight : |^(setup|Gathering Facts)$/.test(e.task));
    expect(later.map((e) => `${e.host} ${e.task}`)).toEqual([]);
    expect(changedResults(run)).toEqual([]);
  }

  test('a db host missing from the etcd group', () => {
    const inv = copyLabInventory();
    const hosts = path.join(inv, 'hosts.yml');
    const text = fs.readFileSync(hosts, 'utf8');
    const broken = text.replace(/(etcd:\n\s+hosts:\n\s+lab1:\n\s+)lab2:/, '$1lab4:');
    expect(broken).not.toBe(text);
    fs.writeFileSync(hosts, broken);
    expectPreflightFailure(inv, /db nodes in etcd: not in etcd: lab2/);
  }, STEP_MS);

  test('mismatched PostgreSQL versions', () => {
    const inv = copyLabInventory();
    fs.mkdirSync(path.join(inv, 'host_vars'), { recursive: true });
    fs.writeFileSync(path.join(inv, 'host_vars', 'lab2.yml'), 'postgresql_version: 16\n');
    expectPreflightFailure(inv, /same PostgreSQL version: differs: lab1=15, lab2=16/);
  }, STEP_MS);

  test('a port blocked inside a lab host', () => {
    labSh('lab2', [
      'nft add table inet tsplay_e2e',
      "nft add chain inet tsplay_e2e input '{ type filter hook input priority 0; }'",
      'nft add rule inet tsplay_e2e input tcp dport 5432 drop',
    ].join(' && '));
    try {
      expectPreflightFailure(LAB_INVENTORY, /lab1 firewall paths: lab2 \(198\.18\.0\.12\):5432 filtered \(timeout\)(; (?!;)|$)/);
    } finally {
      labSh('lab2', 'nft delete table inet tsplay_e2e');
    }
  }, STEP_MS);
});

describe('roles reused alone', () => {
  const extra = path.join(FIXTURES, 'reuse-hosts.yml');

  afterAll(() => {
    // leave the HA stack as the deployment made it: the fixtures' services go away again
    labExec('lab5', 'systemctl disable --now haproxy');
    for (const h of ['lab4', 'lab5']) labExec(h, 'systemctl disable --now etcd');
  });

  test('the haproxy role with its own backends and ports', async () => {
    const run = runPlaybook(path.join(FIXTURES, 'haproxy-alone.yml'), [LAB_INVENTORY, extra]);
    expect({ code: run.code, out: run.code === 0 ? '' : tail(run) }).toEqual({ code: 0, out: '' });
    const cfg = labSh('lab5', 'cat /etc/haproxy/haproxy.cfg');
    expect(cfg).toMatch(/listen web\n\s+bind \*:8080\n\s+option httpchk GET \/\n/);
    expect(cfg).not.toContain('postgres_primary');
    await eventually('HAProxy on lab5:8080 serves the master application', () =>
      curl(['-o', '/dev/null', '-w', '%{http_code}', `http://${labIp('lab5')}:8080/`]).out === '200');
    expect(curl(['-u', STATS, `http://${labIp('lab5')}:7001/;csv`]).out).toMatch(/^web,web1,(?:[^,]*,){15}UP,/m);
    // the first deployment archived the packaged /etc/haproxy first
    expect(labSh('lab5', 'ls /var/backups/tsplay-lb')).toMatch(/^haproxy-\d{8}-\d{6}\.tar\.gz$/m);
    const again = runPlaybook(path.join(FIXTURES, 'haproxy-alone.yml'), [LAB_INVENTORY, extra]);
    expect(again.code).toBe(0);
    expect(changedResults(again).map((e) => `${e.host} ${e.task}`)).toEqual([]);
  }, STEP_MS);

  test('the etcd role deployed to another group', () => {
    const run = runPlaybook(path.join(FIXTURES, 'etcd-alone.yml'), [LAB_INVENTORY, extra]);
    expect({ code: run.code, out: run.code === 0 ? '' : tail(run) }).toEqual({ code: 0, out: '' });
    const members = labSh('lab4', 'ETCDCTL_API=3 etcdctl --endpoints=198.18.0.14:2379,198.18.0.15:2379 member list');
    expect(members.trim().split('\n').map((l) => l.split(', ')[2]).sort()).toEqual(['lab4', 'lab5']);
    expect(labSh('lab5', 'cat /etc/default/etcd')).toContain('ETCD_INITIAL_CLUSTER_TOKEN="kv-e2e"');
    // the HA stack's etcd is a different cluster and still has its three members
    const ha = labSh('lab1', 'ETCDCTL_API=3 etcdctl --endpoints=127.0.0.1:2379 member list');
    expect(ha.trim().split('\n').length).toBe(3);
    const again = runPlaybook(path.join(FIXTURES, 'etcd-alone.yml'), [LAB_INVENTORY, extra]);
    expect(again.code).toBe(0);
    expect(changedResults(again).map((e) => `${e.host} ${e.task}`)).toEqual([]);
  }, STEP_MS);
});

describe('6. failover, tested (playbooks/failover-test.yml)', () => {
  const FT = 'playbooks/failover-test.yml';

  /** The drill's table: the debug message of the task 'failover drills'. */
  function table(run: ReturnType<typeof runPlaybook>): string[] {
    const ev = run.events.find((e) => e.type === 'host_result' && e.task === 'failover drills');
    const msg = (ev?.result as { msg?: string } | undefined)?.msg ?? '';
    return msg.split('\n').filter((l) => l.trim() !== '');
  }

  test('it refuses to run without -e confirm_failover_test=yes, and changes nothing', () => {
    const before = labSh('lab1', 'patronictl -c /etc/patroni/config.yml list -f json');
    const run = runPlaybook(FT, [LAB_INVENTORY]);
    expect(run.code).not.toBe(0);
    expect(run.stdout + run.stderr).toContain('confirm with -e confirm_failover_test=yes');
    expect(changedResults(run)).toEqual([]);
    const leaderOf = (json: string) => (JSON.parse(json) as Array<Record<string, string>>).find((m) => m.Role === 'Leader')?.Member;
    expect(leaderOf(labSh('lab1', 'patronictl -c /etc/patroni/config.yml list -f json'))).toBe(leaderOf(before));
    expect(labExec('lab3', 'ls /var/tmp/tsplay-failover-test').code).not.toBe(0);
  }, STEP_MS);

  test('both drills pass: a new leader and a new master, 0 acknowledged rows lost', async () => {
    const run = runPlaybook(FT, [LAB_INVENTORY], ['-e', 'confirm_failover_test=yes']);
    times['failover-test.yml'] = run.seconds;
    const rows = table(run);
    for (const l of rows) report(`drill | ${l}`);
    expect({ code: run.code, out: run.code === 0 ? '' : tail(run) }).toEqual({ code: 0, out: '' });
    const db = rows.find((l) => l.startsWith('database'));
    const appRow = rows.find((l) => l.startsWith('application'));
    // tier, failure, outage, new leader, acked, lost, rejoin
    expect(db).toMatch(/^database\s+stop_patroni on lab1\s+\d+\.\d\s+lab2\s+\d+\s+0\s+(replica|sync_standby) (running|streaming)/);
    const acked = Number(db!.split(/\s+/)[6]);
    expect(acked).toBeGreaterThan(10);
    expect(appRow).toMatch(/^application\s+stop_nginx on lab4\s+\d+\.\d\s+lab5\s+-\s+-\s+lab4: nginx inactive, disabled/);

    // from outside: lab2 leads, lab1 streams from it, the drill's rows are all there
    await eventually('lab2 leads and lab1 streams from it', () => {
      const r = labExec('lab2', `runuser -u postgres -- psql -AtX -c "select application_name, state from pg_stat_replication"`);
      return r.code === 0 && r.stdout.trim() === 'lab1|streaming';
    });
    const drillRows = Number(psql(5000, 'select count(*) from tsplay_failover_drill').out);
    expect(drillRows).toBeGreaterThanOrEqual(acked);
    expect(psql(5000, 'select inet_server_addr()').out).toBe('198.18.0.12');
    // the application: lab5 serves through HAProxy, lab4's nginx is stopped and will not start at boot
    const app = curl(['-o', '/dev/null', '-D', '-', `http://${OBSERVER}:8080/`]);
    expect(app.out).toMatch(/^x-app-node: lab5\r?$/im);
    expect(labExec('lab4', 'systemctl is-active nginx; systemctl is-enabled nginx').stdout.split('\n').slice(0, 2)).toEqual(['inactive', 'disabled']);
    expect(labExec('lab5', 'systemctl is-active nginx; systemctl is-enabled nginx').stdout.split('\n').slice(0, 2)).toEqual(['active', 'enabled']);
    // every action of the observer is in its log, with a timestamp
    const log = labSh('lab3', 'cat /opt/HA/log/observer.log');
    expect(log).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ FAILOVER DONE: lab4 -> lab5 in \d+ s$/m);
    expect(log).toMatch(/probe of lab4 failed \(1\/3\)/);
  }, STEP_MS);

  test('ha.yml afterwards keeps the new roles and changes nothing the failover moved', () => {
    const run = runPlaybook(HA, [LAB_INVENTORY]);
    times['ha.yml after the drills'] = run.seconds;
    expect({ code: run.code, out: run.code === 0 ? '' : tail(run) }).toEqual({ code: 0, out: '' });
    const changed = changedResults(run).map((e) => `${e.host} ${e.task}`);
    report(`ha.yml after the drills: ${run.seconds.toFixed(1)} s, changed: ${changed.length ? changed.join('; ') : 'nothing'}`);
    expect(changed).toEqual([]);
    // not undone: lab2 still leads, lab5 still serves
    expect(psql(5000, 'select inet_server_addr()').out).toBe('198.18.0.12');
    expect(labExec('lab4', 'systemctl is-active nginx').stdout.trim()).toBe('inactive');
    const verdict = run.events.find((e) => e.type === 'host_result' && e.task === 'cluster state');
    const msg = String((verdict?.result as { msg?: string } | undefined)?.msg ?? '');
    expect(msg).toMatch(/Patroni leader\s+ok\s+lab2/);
    expect(msg).toMatch(/nginx\s+ok\s+active on lab5 only/);
  }, STEP_MS);
});
