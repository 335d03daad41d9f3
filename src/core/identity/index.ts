export * from './identity-store.js';
export * from './identity-backend.js';
