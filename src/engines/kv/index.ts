export { kvBackend, kvRegistration, kvVersion } from './backend.js';
