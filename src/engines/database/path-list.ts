import { definePath, type CompiledPath } from '../../framework/index.js';

/** LIST on `<pattern>` (with or without its trailing slash): the names under a storage folder, 404 when none. */
export function listPath(opts: { readonly pattern: string; readonly folder: string; readonly summary: string; readonly description: string }): CompiledPath {
  return definePath({
    pattern: `${opts.pattern}/?`,
    fields: {},
    operations: {
      list: {
        summary: opts.summary,
        handler: async (ctx) => {
          const keys = await ctx.storage.list(opts.folder);
          return keys.length ? { data: { keys } } : null;
        },
      },
    },
    help: { synopsis: opts.summary, description: opts.description },
  });
}
