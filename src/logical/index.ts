export * from './errors.js';
export * from './operation.js';
export * from './request.js';
export * from './response.js';
export * from './storage.js';
export * from './system-view.js';
export * from './children.js';
export * from './audit.js';
