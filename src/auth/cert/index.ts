export { certRegistration } from './backend.js';
