export * from './fields.js';
export * from './define-path.js';
export * from './define-backend.js';
export * from './define-secret.js';
export * from './token-fields.js';
