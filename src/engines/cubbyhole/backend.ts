import { defineBackend, definePath, matchAll, type Backend, type BackendContext, type BackendRegistration, type PathContext } from '../../framework/index.js';
import { badRequest, clearView, getJSON, permissionDenied, putJSON } from '../../logical/index.js';

/**
 * Cubbyhole: private storage for each token. Every key is prefixed with the caller's cubbyhole
 * id, so no token can name another's data, and it is deleted when the token is revoked.
 */
export async function cubbyholeBackend(ctx: BackendContext): Promise<Backend> {
  const keyOf = (ctx: PathContext, allowFolder: boolean): string => {
    const caller = ctx.req.caller;
    if (!caller) throw permissionDenied();
    const path = ctx.captures.path ?? '';
    if (!allowFolder && (path === '' || path.endsWith('/'))) throw badRequest('invalid path: it must not be empty or end in "/"');
    return `${caller.cubbyholeId}/${path}`;
  };
  return defineBackend({
    type: 'cubbyhole',
    system: ctx.system,
    tokenRevoked: (token) => clearView(ctx.view, `${token.cubbyholeId}/`),
    paths: [
      definePath({
        pattern: matchAll('path'),
        fields: {},
        arbitraryData: true,
        existenceCheck: async (ctx) => (await ctx.req.storage.get(keyOf(ctx, true))) !== null,
        operations: {
          read: {
            summary: 'Read a value.',
            handler: async (ctx) => {
              const data = await getJSON<Record<string, unknown>>(ctx.req.storage, keyOf(ctx, false));
              return data ? { data } : null;
            },
          },
          update: {
            summary: 'Write a value.',
            handler: async (ctx) => {
              if (Object.keys(ctx.req.data).length === 0) throw badRequest('missing data fields');
              await putJSON(ctx.req.storage, keyOf(ctx, false), ctx.req.data);
              return null;
            },
          },
          delete: {
            summary: 'Delete a value.',
            handler: async (ctx) => {
              await ctx.req.storage.delete(keyOf(ctx, false));
              return null;
            },
          },
          list: {
            summary: 'List keys.',
            handler: async (ctx) => {
              const keys = await ctx.req.storage.list(keyOf(ctx, true));
              return keys.length ? { data: { keys } } : null;
            },
          },
        },
        help: { synopsis: 'Per-token private storage.', description: 'Only the token that wrote a value can read it; it is destroyed with the token.' },
      }),
    ],
  });
}

/** One cubbyhole per server, mounted at cubbyhole/ by the core. */
export const cubbyholeRegistration: BackendRegistration = { factory: cubbyholeBackend, singleton: true };
