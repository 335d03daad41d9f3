import { definePath, field, type CompiledPath, type FieldValues } from '../../framework/index.js';
import { badRequest, permissionDenied, type LogicalResponse } from '../../logical/index.js';
import { capabilitiesOn, type Acl } from '../policy/index.js';
import type { SysDeps } from './sys-deps.js';

const fields = {
  token: field.string({ description: 'Token whose capabilities to report.' }),
  accessor: field.string({ description: 'Accessor of the token whose capabilities to report.' }),
  path: field.strings({ description: 'Path (or paths) to check.' }),
  paths: field.strings({ description: 'Paths to check.' }),
};

function answer(acl: Acl, d: FieldValues<typeof fields>): LogicalResponse {
  // Clients may send the same path as both `path` and `paths`; each path answers once.
  const paths = [...new Set([...d.path, ...d.paths].map((p) => p.replace(/^\/+/, '')))];
  if (paths.length === 0) throw badRequest('missing path');
  const data: Record<string, unknown> = {};
  for (const p of paths) data[p] = capabilitiesOn(acl, p);
  // Kept for older clients, as Vault does: a single path also answers under "capabilities".
  if (paths.length === 1) data['capabilities'] = data[paths[0]!];
  return { data };
}

export function capabilityPaths(deps: SysDeps): CompiledPath[] {
  const help = { synopsis: 'Report the capabilities of a token on paths.', description: 'Answers with the capabilities each path grants.' };
  /** A path answering for the token that `find` resolves from the request, or 400 `invalid`. */
  const byLookup = (pattern: string, summary: string, find: (d: FieldValues<typeof fields>) => Promise<Acl | null>, invalid: string) =>
    definePath({
      pattern,
      fields,
      operations: {
        update: {
          summary,
          handler: async (_ctx, d) => {
            const acl = await find(d);
            if (!acl) throw badRequest(invalid);
            return answer(acl, d);
          },
        },
      },
      help,
    });
  return [
    byLookup('capabilities', 'Capabilities of a token given by value.', (d) => deps.aclForToken(d.token), 'invalid token'),
    byLookup('capabilities-accessor', 'Capabilities of a token given by accessor.', (d) => deps.aclForAccessor(d.accessor), 'invalid accessor'),
    definePath({
      pattern: 'capabilities-self',
      fields,
      operations: {
        update: {
          summary: 'Capabilities of the calling token.',
          handler: async (ctx, d) => {
            if (!ctx.req.caller) throw permissionDenied();
            return answer(await deps.aclForCaller(ctx.req.caller), d);
          },
        },
      },
      help,
    }),
  ];
}
