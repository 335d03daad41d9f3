import { badRequest, type StorageView } from '../../logical/index.js';
import { compileUsernameTemplate, type CompiledTemplate } from './username-template.js';
import { loadConfig, type DbConfig } from './db-store.js';
import { PLUGINS, type DatabasePlugin, type PluginType } from './plugins/index.js';

/** An open connection of a config, with what each credential needs of it. */
export interface Connection {
  readonly name: string;
  readonly config: DbConfig;
  readonly type: PluginType;
  readonly plugin: DatabasePlugin;
  readonly usernames: CompiledTemplate;
}

export function pluginType(name: string): PluginType {
  const type = PLUGINS.get(name);
  if (!type) throw badRequest(`unknown plugin_name: the plugins are ${[...PLUGINS.keys()].join(', ')}`);
  return type;
}

export function openConnection(name: string, config: DbConfig): Connection {
  const type = pluginType(config.plugin_name);
  const plugin = type.open({
    connectionDetails: config.connection_details,
    username: config.username,
    password: config.password,
    maxOpenConnections: config.max_open_connections,
    maxIdleConnections: config.max_idle_connections,
    maxConnectionLifetime: config.max_connection_lifetime,
  });
  return { name, config, type, plugin, usernames: compileUsernameTemplate(config.username_template || type.defaultUsernameTemplate) };
}

/**
 * One open connection (a pool) per config, opened on first use and closed when the config
 * changes, is reset, its root password rotates, or the mount goes.
 */
export class Connections {
  readonly #view: StorageView;
  readonly #open = new Map<string, Connection>();

  constructor(view: StorageView) {
    this.#view = view;
  }

  async get(name: string): Promise<Connection> {
    const open = this.#open.get(name);
    if (open) return open;
    const config = await loadConfig(this.#view, name);
    if (!config) throw badRequest(`unknown database "${name}": write database config/${name} first`);
    // Another request may have opened it while the config was read.
    const raced = this.#open.get(name);
    if (raced) return raced;
    const conn = openConnection(name, config);
    this.#open.set(name, conn);
    return conn;
  }

  /** Use this already-open connection for name (a config write opens one to verify it). */
  adopt(conn: Connection): void {
    const old = this.#open.get(conn.name);
    this.#open.set(conn.name, conn);
    if (old && old !== conn) void old.plugin.close().catch(() => {});
  }

  async close(name: string): Promise<void> {
    const conn = this.#open.get(name);
    this.#open.delete(name);
    await conn?.plugin.close().catch(() => {});
  }

  async closeAll(): Promise<void> {
    const all = [...this.#open.values()];
    this.#open.clear();
    await Promise.all(all.map((c) => c.plugin.close().catch(() => {})));
  }
}
