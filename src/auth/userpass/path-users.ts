import {
  definePath, field, genericName, listPath, readTokenSettings, tokenFields, writeTokenSettings, type CompiledPath, type PathContext,
} from '../../framework/index.js';
import { badRequest } from '../../logical/index.js';
import { hashPassword } from './password-hash.js';
import { canonicalUser, loadUser, saveUser, type UserEntry } from './user-store.js';

/** bcrypt reads 72 bytes and ignores the rest: a longer password would be a shorter one in disguise. */
const MAX_PASSWORD_BYTES = 72;

function checkPassword(password: string): void {
  if (password === '') throw badRequest('missing password');
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) throw badRequest(`password is longer than ${MAX_PASSWORD_BYTES} bytes`);
}

const userName = { username: field.string({ description: 'Name of the user.', required: true }) };

async function existing(ctx: PathContext, name: string): Promise<UserEntry> {
  const user = await loadUser(ctx.storage, name);
  if (!user) throw badRequest('username does not exist');
  return user;
}

export const userPaths: CompiledPath[] = [
  listPath('users', 'user/', 'the users'),
  definePath({
    pattern: `users/${genericName('username')}/password`,
    fields: { ...userName, password: field.string({ description: 'The new password.' }) },
    operations: {
      update: {
        summary: 'Change a user\'s password.',
        handler: async (ctx, d) => {
          const user = await existing(ctx, d.username);
          checkPassword(d.password);
          await saveUser(ctx.storage, d.username, { ...user, password_hash: await hashPassword(d.password) });
          return null;
        },
      },
    },
    help: { synopsis: 'Change a user\'s password.', description: 'Only the new password\'s bcrypt hash is stored.' },
  }),
  definePath({
    pattern: `users/${genericName('username')}/policies`,
    fields: { ...userName, token_policies: tokenFields.token_policies, policies: tokenFields.policies },
    operations: {
      update: {
        summary: 'Change a user\'s policies.',
        handler: async (ctx, d) => {
          const user = await existing(ctx, d.username);
          const policies = ctx.provided.has('token_policies') ? d.token_policies : d.policies;
          await saveUser(ctx.storage, d.username, { ...user, token_policies: policies });
          return null;
        },
      },
    },
    help: { synopsis: 'Change a user\'s policies.', description: 'Tokens issued before the change stop renewing.' },
  }),
  definePath({
    pattern: `users/${genericName('username')}`,
    fields: { ...userName, password: field.string({ description: 'The password; required when creating the user.' }), ...tokenFields },
    existenceCheck: async (ctx) => (await loadUser(ctx.storage, String(ctx.captures.username))) !== null,
    operations: {
      read: {
        summary: 'Read a user.',
        handler: async (ctx, d) => {
          const user = await loadUser(ctx.storage, d.username);
          return user ? { data: readTokenSettings(user) } : null;
        },
      },
      create: {
        summary: 'Create a user.',
        handler: async (ctx, d) => {
          checkPassword(d.password);
          const settings = writeTokenSettings(ctx, d);
          await saveUser(ctx.storage, d.username, { ...settings, password_hash: await hashPassword(d.password) });
          return null;
        },
      },
      update: {
        summary: 'Update a user.',
        handler: async (ctx, d) => {
          const user = await existing(ctx, d.username);
          const settings = writeTokenSettings(ctx, d, user);
          let hash = user.password_hash;
          if (ctx.provided.has('password')) {
            checkPassword(d.password);
            hash = await hashPassword(d.password);
          }
          await saveUser(ctx.storage, d.username, { ...settings, password_hash: hash });
          return null;
        },
      },
      delete: {
        summary: 'Delete a user.',
        handler: async (ctx, d) => {
          await ctx.storage.delete(`user/${canonicalUser(d.username)}`);
          return null;
        },
      },
    },
    help: { synopsis: 'Manage a user.', description: 'A user\'s password (stored as a bcrypt hash) and the settings of the tokens it logs in to.' },
  }),
];
