export { jwtRegistration } from './backend.js';
