import { defineBackend, definePath, matchAll, type Backend } from '../../framework/index.js';
import { badRequest, getJSON, putJSON, type SystemView } from '../../logical/index.js';
import { layout, listUnder } from './kv-store.js';

/** KV version 1: one unversioned JSON object per key. */
export function kvV1Backend(system: SystemView, countSecrets: () => Promise<number>): Backend {
  return defineBackend({
    type: 'kv',
    system,
    countSecrets,
    paths: [
      definePath({
        pattern: matchAll('path'),
        fields: {},
        arbitraryData: true,
        existenceCheck: async (ctx) => (await ctx.req.storage.get(layout.v1(ctx.captures.path ?? ''))) !== null,
        operations: {
          read: {
            summary: 'Read a secret.',
            handler: async (ctx) => {
              const data = await getJSON<Record<string, unknown>>(ctx.req.storage, layout.v1(ctx.captures.path ?? ''));
              return data ? { data } : null;
            },
          },
          create: { summary: 'Write a secret.', handler: async (ctx) => write(ctx.captures.path ?? '', ctx.req.data, ctx.req.storage) },
          update: { summary: 'Write a secret.', handler: async (ctx) => write(ctx.captures.path ?? '', ctx.req.data, ctx.req.storage) },
          delete: {
            summary: 'Delete a secret.',
            handler: async (ctx) => {
              await ctx.req.storage.delete(layout.v1(ctx.captures.path ?? ''));
              return null;
            },
          },
          list: {
            summary: 'List keys under a prefix.',
            handler: async (ctx) => listUnder(ctx.req.storage, layout.v1(''), ctx.captures.path ?? ''),
          },
        },
        help: { synopsis: 'Pass-through secret storage.', description: 'Stores arbitrary JSON objects at arbitrary paths.' },
      }),
    ],
  });
}

async function write(path: string, data: Readonly<Record<string, unknown>>, storage: Parameters<typeof putJSON>[0]) {
  if (path === '' || path.endsWith('/')) throw badRequest('invalid secret path: it must not be empty or end in "/"');
  if (Object.keys(data).length === 0) throw badRequest('missing data fields');
  await putJSON(storage, layout.v1(path), data);
  return null;
}
