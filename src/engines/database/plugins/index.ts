import { mysqlPlugins } from './mysql.js';
import type { PluginType } from './plugin.js';
import { postgresqlPlugin } from './postgresql.js';
import { redisPlugin } from './redis.js';

export { DatabaseError, asRequestError, type ConnectionConfig, type DatabasePlugin, type PluginType } from './plugin.js';

/** The database plugins this build offers, by plugin_name. */
export const PLUGINS: ReadonlyMap<string, PluginType> = new Map([postgresqlPlugin, ...mysqlPlugins, redisPlugin].map((p) => [p.name, p]));
