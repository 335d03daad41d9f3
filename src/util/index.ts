export * from './base64.js';
export * from './clock.js';
export * from './duration.js';
export * from './keyed-mutex.js';
export * from './logger.js';
export * from './lru.js';
export * from './version.js';
export * from './random.js';
