export { databaseBackend, databaseRegistration } from './backend.js';
