export * from './policy.js';
export * from './acl.js';
export { PolicyStore } from './policy-store.js';
export { DEFAULT_POLICY } from './builtin.js';
export { PasswordPolicyStore, parsePasswordPolicy, generatePassword, DEFAULT_PASSWORD_POLICY, type PasswordPolicy } from './password-policy.js';
export * from './template.js';
