import { definePath, field, type CompiledPath } from '../../framework/index.js';
import { badRequest } from '../../logical/index.js';
import { decodeStrictBase64 } from '../../util/index.js';
import type { SysDeps } from './sys-deps.js';

const nameField = { name: field.string({ description: 'Name of the policy.', required: true }) };

/** Vault accepts a policy (ACL or password) base64-encoded to spare callers the escaping. */
export function decodePolicy(text: string): string {
  const decoded = decodeStrictBase64(text)?.toString('utf8');
  return decoded !== undefined && !decoded.includes('\uFFFD') ? decoded : text;
}

export function policyPaths(deps: SysDeps): CompiledPath[] {
  const write = async (name: string, text: string): Promise<null> => {
    if (text.trim() === '') throw badRequest("'policy' parameter not supplied or empty");
    await deps.policies.set(name, decodePolicy(text));
    return null;
  };
  const remove = async (name: string): Promise<null> => {
    await deps.policies.delete(name);
    return null;
  };
  return [
    definePath({
      pattern: 'policy/?',
      fields: {},
      operations: {
        read: { summary: 'List policies.', handler: async () => ({ data: { keys: await deps.policies.list(), policies: await deps.policies.list() } }) },
        list: { summary: 'List policies.', handler: async () => ({ data: { keys: await deps.policies.list(), policies: await deps.policies.list() } }) },
      },
      help: { synopsis: 'List the configured access control policies.', description: 'Includes the built-in root and default policies.' },
    }),
    definePath({
      pattern: 'policy/(?<name>.+)',
      fields: { ...nameField, policy: field.string({ description: 'The policy document in HCL or JSON.' }), rules: field.string({ description: 'Deprecated alias of policy.' }) },
      operations: {
        read: {
          summary: 'Read a policy.',
          handler: async (_ctx, d) => {
            const p = await deps.policies.get(d.name);
            return p ? { data: { name: p.name, rules: p.raw } } : null;
          },
        },
        update: { summary: 'Write a policy.', handler: async (_ctx, d) => write(d.name, d.policy || d.rules) },
        delete: { summary: 'Delete a policy.', handler: async (_ctx, d) => remove(d.name) },
      },
      help: { synopsis: 'Read, write and delete ACL policies.', description: 'The legacy path for ACL policies; see sys/policies/acl.' },
    }),
    definePath({
      pattern: 'policies/acl/?',
      fields: {},
      operations: { list: { summary: 'List ACL policies.', handler: async () => ({ data: { keys: await deps.policies.list() } }) } },
      help: { synopsis: 'List ACL policies.', description: 'Includes the built-in root and default policies.' },
    }),
    definePath({
      pattern: 'policies/acl/(?<name>.+)',
      fields: { ...nameField, policy: field.string({ description: 'The policy document in HCL or JSON.' }) },
      operations: {
        read: {
          summary: 'Read an ACL policy.',
          handler: async (_ctx, d) => {
            const p = await deps.policies.get(d.name);
            return p ? { data: { name: p.name, policy: p.raw } } : null;
          },
        },
        update: { summary: 'Write an ACL policy.', handler: async (_ctx, d) => write(d.name, d.policy) },
        delete: { summary: 'Delete an ACL policy.', handler: async (_ctx, d) => remove(d.name) },
      },
      help: { synopsis: 'Read, write and delete ACL policies.', description: 'Policies are written in HCL or JSON.' },
    }),
  ];
}
