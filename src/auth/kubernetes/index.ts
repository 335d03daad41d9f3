export { kubernetesBackend, kubernetesRegistration } from './backend.js';
