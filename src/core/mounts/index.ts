export * from './mount-entry.js';
export * from './mount-manager.js';
