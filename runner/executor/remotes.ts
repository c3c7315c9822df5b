/**
 * Host -> connection settings (ConnectionSpec, from Ansible's connection variables), the
 * become settings of a task, and one Remote per host and become identity for the whole run.
 */

import os from 'os';
import path from 'path';
import { connectionKey } from '../connection/pool';
import { createRemote } from '../connection/remote';
import { becomeKey } from '../connection/session-pool';
import type { BecomeSpec, Connection, ConnectionSpec, HostKeyPolicy } from '../connection/types';
import { TsplayError } from '../errors';
import type { TaskDef } from '../loader/types';
import type { ExecOptions, Remote } from '../module-api';
import { sshSettings } from '../inventory/connection-vars';
import { checkBecomeUser } from '../names';
import { secrets } from '../secrets';
import type { RunContext } from './context';
import { withExecOptions } from './interruptible';
import { OMIT, type Scope } from './scope';
import type { Vars } from './vars';

export class Remotes {
  private readonly remotes = new Map<string, Promise<Remote>>();

  constructor(private readonly x: RunContext) {}

  /**
   * `keywords`: the task's rendered `connection` / `remote_user`; below the inventory's
   * variables, above -c / -u (Ansible's order).
   */
  async connectionSpec(name: string, vars: Vars, keywords: { connection?: string; remoteUser?: string } = {}): Promise<ConnectionSpec> {
    const str = (k: string[]): string | undefined => {
      for (const key of k) {
        const v = vars[key];
        if (v !== undefined && v !== null && v !== '') return String(v);
      }
      return undefined;
    };
    let type = str(['ansible_connection', 'tsplay_connection']) ?? keywords.connection ?? this.x.o.connection ??
      (name === 'localhost' && !this.x.s.inventory.hasHost(name) ? 'local' : 'ssh');
    if (type === 'smart' || type === 'paramiko') type = 'ssh';
    if (type !== 'local' && type !== 'ssh') throw new TsplayError(`${name}: ansible_connection '${type}' is not supported (local or ssh)`);
    const hkc = str(['tsplay_host_key_checking', 'ansible_host_key_checking', 'ansible_ssh_host_key_checking']);
    let policy: HostKeyPolicy = this.x.o.hostKeyChecking ?? 'accept-new';
    if (hkc !== undefined && !this.x.o.hostKeyChecking) {
      if (['strict', 'accept-new', 'off'].includes(hkc)) policy = hkc as HostKeyPolicy;
      else if (['false', 'no', 'off', '0'].includes(hkc.toLowerCase())) policy = 'off';
      else policy = 'strict';
    }
    const password = str(['ansible_password', 'ansible_ssh_pass', 'tsplay_password']) ?? this.x.o.connPassword;
    if (password) secrets.add(password);
    const jumpRaw = str(['tsplay_jump']) ?? /ProxyJump[= ]\s*(\S+)/.exec(str(['ansible_ssh_common_args']) ?? '')?.[1];
    let jump: ConnectionSpec['jump'];
    if (jumpRaw) {
      const m = /^(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(jumpRaw);
      if (!m) throw new TsplayError(`${name}: cannot parse jump host '${jumpRaw}' (user@host:port)`);
      const port = m[3] ? Number(m[3]) : 22;
      if (!(port >= 1 && port <= 65535)) throw new TsplayError(`${name}: jump host '${jumpRaw}': port ${m[3]} is not 1-65535`);
      // a user or host that starts with '-' would reach ssh2's options, never a host
      if (/^-/.test(m[1] ?? '') || /^-/.test(m[2])) throw new TsplayError(`${name}: jump host '${jumpRaw}' is not user@host:port`);
      jump = { user: m[1], address: m[2], port };
    }
    const home = os.homedir();
    const expand = (p: string | undefined) => (p ? p.replace(/^~(?=$|\/)/, home) : p);
    return {
      name,
      type,
      address: str(['ansible_host', 'tsplay_host']) ?? name,
      ...sshSettings(name, vars, this.x.o),
      user: str(['ansible_user', 'ansible_ssh_user', 'tsplay_user']) ?? keywords.remoteUser ?? this.x.o.remoteUser ?? (type === 'local' ? undefined : os.userInfo().username),
      privateKeyFile: expand(str(['ansible_ssh_private_key_file', 'ansible_private_key_file', 'tsplay_private_key_file'])),
      password,
      passphrase: str(['tsplay_key_passphrase']),
      hostKeyChecking: policy,
      knownHostsFile: expand(this.x.o.knownHostsFile ?? str(['tsplay_known_hosts_file', 'ansible_ssh_known_hosts_file'])) ?? path.join(home, '.ssh', 'known_hosts'),
      timeoutMs: this.x.o.timeoutMs,
      jump,
    };
  }

  async becomeSpec(scope: Scope, task: TaskDef | undefined, vars: Vars, spec: ConnectionSpec): Promise<BecomeSpec | undefined> {
    const pick = <T>(t: T | undefined, s: T | undefined, v: unknown): T | undefined => (t !== undefined ? t : s !== undefined ? s : (v as T | undefined));
    const becomeRaw = pick(task?.become, scope.become, vars.ansible_become);
    const become = await this.x.keywordBool('become', becomeRaw as boolean | string | undefined, vars, task?.loc, false);
    if (!become) return undefined;
    const render = async (x: unknown) => (x === undefined ? undefined : String(await this.x.s.templar.renderValue(x, vars)));
    const user = checkBecomeUser((await render(pick(task?.becomeUser, scope.becomeUser, vars.ansible_become_user))) ?? 'root', task?.loc);
    const method = (await render(pick(task?.becomeMethod, scope.becomeMethod, vars.ansible_become_method))) ?? 'sudo';
    if (method !== 'sudo' && method !== 'su') throw new TsplayError(`become_method '${method}' is not supported (sudo or su)`);
    const flags = await render(pick(task?.becomeFlags, scope.becomeFlags, vars.ansible_become_flags));
    const pwRaw = vars.ansible_become_password ?? vars.ansible_become_pass ?? this.x.o.becomePassword;
    const password = pwRaw === undefined || pwRaw === null ? undefined : String(await this.x.s.templar.renderValue(pwRaw, vars));
    if (password) secrets.add(password);
    // already that user: no become needed
    if (spec.type === 'ssh' && spec.user === user) return undefined;
    if (spec.type === 'local' && os.userInfo().username === user) return undefined;
    return { user, method, password, flags };
  }

  /** `vars`: the connection's (the delegated host's under delegate_to); `taskVars`: the task's, for its keywords */
  async remoteFor(hostName: string, vars: Vars, scope: Scope, task: TaskDef | undefined, taskVars: Vars = vars): Promise<Remote> {
    const render = async (v: string | undefined) => (v === undefined ? undefined : String(await this.x.s.templar.renderValue(v, taskVars, task?.loc)));
    const spec = await this.connectionSpec(hostName, vars, {
      connection: await render(task?.connection ?? scope.connection),
      remoteUser: await render(task?.remoteUser ?? scope.remoteUser),
    });
    const become = await this.becomeSpec(scope, task, vars, spec);
    const key = `${connectionKey(spec)}\0${becomeKey(become)}`;
    let p = this.remotes.get(key);
    if (!p) {
      p = (async () => {
        const conn: Connection = await this.x.pool.get(spec);
        return createRemote(conn, become);
      })();
      this.remotes.set(key, p);
      p.catch(() => this.remotes.delete(key));
    }
    return p;
  }

  /** `meta: reset_connection`: the host's connections and shells are opened again on next use. */
  async reset(hostName: string): Promise<void> {
    for (const k of [...this.remotes.keys()]) if (k.startsWith(`${hostName}\0`)) this.remotes.delete(k);
    await this.x.pool.reset(hostName);
  }

  async environment(scope: Scope, vars: Vars): Promise<Record<string, string> | undefined> {
    if (!scope.environment.length) return undefined;
    const env: Record<string, string> = {};
    for (const e of scope.environment) {
      const v = await this.x.s.templar.renderValue(e, vars);
      if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) if (x !== OMIT) env[k] = String(x);
    }
    return env;
  }
}

export function withEnv(remote: Remote, env: Record<string, string> | undefined): Remote {
  if (!env) return remote;
  return withExecOptions(remote, (o?: ExecOptions): ExecOptions => ({ ...(o ?? {}), env: { ...env, ...(o?.env ?? {}) } }));
}

/** The "remote" of a controller-side module: any use is a bug in that module. */
export function noRemote(module: string): Remote {
  const fail = () => {
    throw new TsplayError(`${module} runs on the controller and has no host connection`);
  };
  return { query: fail, exec: fail, readFile: fail, stat: fail, writeFile: fail } as unknown as Remote;
}
