import { definePath, field, genericName, type CompiledPath } from '../../framework/index.js';
import { badRequest } from '../../logical/index.js';
import type { SysDeps } from './sys-deps.js';
import { decodePolicy } from './sys-policy.js';

/** sys/policies/password/:name (HCL: length, `rule "charset"` with min-chars) and …/generate. */
export function passwordPolicyPaths(deps: SysDeps): CompiledPath[] {
  const store = deps.passwordPolicies;
  const name = field.string({ description: 'Name of the password policy.', required: true });
  return [
    definePath({
      pattern: 'policies/password/?',
      fields: {},
      operations: {
        list: {
          summary: 'List password policies.',
          handler: async () => {
            const keys = await store.list();
            return keys.length ? { data: { keys } } : null;
          },
        },
      },
      help: { synopsis: 'List password policies.', description: 'Names of the stored policies.' },
    }),
    definePath({
      pattern: `policies/password/${genericName('name')}`,
      fields: { name, policy: field.string({ description: 'The policy in HCL or JSON, optionally base64-encoded.' }) },
      operations: {
        read: {
          summary: 'Read a password policy.',
          handler: async (_ctx, d) => {
            const policy = await store.getText(d.name);
            return policy === null ? null : { data: { policy } };
          },
        },
        update: {
          summary: 'Write a password policy.',
          handler: async (_ctx, d) => {
            if (d.policy.trim() === '') throw badRequest('missing policy');
            await store.set(d.name, decodePolicy(d.policy));
            return null;
          },
        },
        delete: {
          summary: 'Delete a password policy.',
          handler: async (_ctx, d) => {
            await store.delete(d.name);
            return null;
          },
        },
      },
      help: { synopsis: 'Manage password policies.', description: 'A policy is checked by generating a password when it is written.' },
    }),
    definePath({
      pattern: `policies/password/${genericName('name')}/generate`,
      fields: { name },
      operations: {
        read: {
          summary: 'Generate a password under the policy.',
          handler: async (_ctx, d) => {
            if ((await store.get(d.name)) === null) throw badRequest(`password policy "${d.name}" does not exist`);
            return { data: { password: await store.generate(d.name) } };
          },
        },
      },
      help: { synopsis: 'Generate a password from a policy.', description: 'Each call draws a new password.' },
    }),
  ];
}
