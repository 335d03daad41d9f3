export * from './schema.js';
export { parseConfig, loadConfig, ConfigError } from './load.js';
export { sanitizedConfig } from './sanitized.js';
