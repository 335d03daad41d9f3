import { definePath, field, type CompiledPath } from '../../framework/index.js';
import { badRequest, type CallerIdentity, type LogicalResponse } from '../../logical/index.js';
import { INVALID_WRAPPING_TOKEN, WRAPPING_POLICY, type WrappedResponse } from '../wrapping/wrapping.js';
import type { SysDeps } from './sys-deps.js';

const tokenField = { token: field.string({ description: 'The wrapping token, when the client token is not it.' }) };

/** The caller itself, as the wrapping token to act on: it must be one. */
function callerWrappingToken(caller: CallerIdentity | null): string {
  if (!caller || caller.policies.length !== 1 || caller.policies[0] !== WRAPPING_POLICY) throw badRequest(INVALID_WRAPPING_TOKEN);
  return caller.tokenHash;
}

/** A response as unwrapping answers it: the envelope the wrapped request would have answered. */
function unwrapped(r: WrappedResponse): LogicalResponse {
  return {
    data: r.data ? { ...r.data } : null,
    ...(r.auth ? { auth: r.auth } : {}),
    ...(r.lease ? { lease: r.lease } : {}),
    ...(r.warnings ? { warnings: [...r.warnings] } : {}),
    unwrapped: { requestId: r.requestId, mountType: r.mountType },
  };
}

/**
 * sys/wrapping: wrap any data, and look up, unwrap or rewrap a wrapping token given as the
 * client token or (by a caller with a token of its own) in the body.
 */
export function wrappingPaths(deps: SysDeps): CompiledPath[] {
  const w = deps.wrapping;
  /**
   * Act on the wrapping token of a request: the one in the body, spent here and revoked after;
   * or the client token itself, whose one use the pipeline spent and revokes after the request.
   */
  const withToken = async <T>(caller: CallerIdentity | null, bodyToken: string, act: (tokenId: string) => Promise<T>): Promise<T> => {
    if (!bodyToken) return act(callerWrappingToken(caller));
    const entry = await w.spend(bodyToken);
    try {
      return await act(entry.id);
    } finally {
      await w.finish(entry);
    }
  };
  const lookup = async (caller: CallerIdentity | null, bodyToken: string) => ({ data: bodyToken ? await w.lookupToken(bodyToken) : await w.lookup(callerWrappingToken(caller)) });
  return [
    definePath({
      pattern: 'wrapping/wrap',
      fields: {},
      arbitraryData: true,
      operations: {
        update: {
          summary: 'Wrap the request\'s data.',
          handler: async (ctx) => {
            if (ctx.req.wrapTtl === 0) throw badRequest('no wrap TTL was given: send the X-Vault-Wrap-TTL header');
            // The pipeline wraps what this answers.
            return { data: { ...ctx.req.data } };
          },
        },
      },
      help: { synopsis: 'Wrap data in a wrapping token.', description: 'The request body, unwrapped later exactly as it was sent.' },
    }),
    definePath({
      pattern: 'wrapping/lookup',
      fields: tokenField,
      operations: {
        read: { summary: 'Look up a wrapping token.', handler: async (ctx, d) => lookup(ctx.req.caller, d.token) },
        update: { summary: 'Look up a wrapping token.', handler: async (ctx, d) => lookup(ctx.req.caller, d.token) },
      },
      help: { synopsis: 'Look up a wrapping token.', description: 'When and where it was made, and its TTL; the token is not spent.' },
    }),
    definePath({
      pattern: 'wrapping/unwrap',
      fields: tokenField,
      operations: {
        update: {
          summary: 'Unwrap a wrapping token.',
          handler: async (ctx, d) => unwrapped(await withToken(ctx.req.caller, d.token, (id) => w.take(id))),
        },
      },
      help: { synopsis: 'Unwrap a wrapping token.', description: 'Answers the wrapped response, once: the token is spent.' },
    }),
    definePath({
      pattern: 'wrapping/rewrap',
      fields: tokenField,
      operations: {
        update: {
          summary: 'Rewrap a wrapping token.',
          handler: async (ctx, d) => ({ wrapInfo: await withToken(ctx.req.caller, d.token, (id) => w.rewrap(id)) }),
        },
      },
      help: { synopsis: 'Rewrap a wrapping token.', description: 'The same response under a new token with the same TTL; the old token is spent.' },
    }),
  ];
}
