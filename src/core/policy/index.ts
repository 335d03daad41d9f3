export * from './policy.js';
export * from './acl.js';
export { PolicyStore } from './policy-store.js';
export { DEFAULT_POLICY } from './builtin.js';
