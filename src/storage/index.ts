export * from './storage.js';
export { InmemStorage } from './inmem/index.js';
export { SqliteStorage, type SqliteOptions } from './sqlite/index.js';
export { CachedStorage } from './cache.js';
