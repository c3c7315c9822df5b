import type { HostKeyPolicy } from '../connection/types';
import type { Inventory } from '../inventory/index';
import type { Loader } from '../loader/index';
import type { ModuleRegistry } from '../module-registry';
import type { EventInput } from '../output/events';
import type { Templar } from '../templating/index';

export interface RunOptions {
  check: boolean;
  diff: boolean;
  forks: number;
  limit?: string;
  tags: string[];
  skipTags: string[];
  extraVars: Record<string, unknown>;
  verbosity: number;
  startAtTask?: string;
  /** ssh connect timeout */
  timeoutMs: number;
  hostKeyChecking?: HostKeyPolicy;
  knownHostsFile?: string;
  /** --ask-become-pass */
  becomePassword?: string;
  /** --ask-pass */
  connPassword?: string;
  /** -c / --connection: below the `connection` keyword and ansible_connection */
  connection?: string;
  /** --force-handlers: the default of the play keyword */
  forceHandlers?: boolean;
  /** -u / --user: below the `remote_user` keyword and ansible_user */
  remoteUser?: string;
  /** Ctrl-C */
  signal: AbortSignal;
  version: string;
}

export interface Services {
  inventory: Inventory;
  loader: Loader;
  templar: Templar;
  modules: ModuleRegistry;
  emit: (e: EventInput) => void;
  /** load a vars file (vault-aware) as a mapping */
  readVarsFile: (path: string) => Promise<Record<string, unknown>>;
}
