import { defineBackend, definePath, field, genericName, type Backend, type BackendContext, type FieldValues, type PathContext } from '../../framework/index.js';
import { CofferError, badRequest, permissionDenied, type AuthResult, type CallerIdentity, type ConnectionInfo, type LogicalResponse } from '../../logical/index.js';
import { sanitizePolicies } from './token-issue.js';
import { loadRole, rolePaths, type TokenRole } from './token-roles.js';
import { isBatchToken, type TokenEntry, type TokenStore } from './token-store.js';
import { lookupData } from './token-view.js';

export interface TokenBackendDeps {
  readonly store: TokenStore;
  /** True if the caller holds sudo on the given full request path. */
  readonly hasSudo: (caller: CallerIdentity, path: string) => Promise<boolean>;
  /**
   * Renew a token within the caps that hold now: for a login's token the issuing method is asked
   * first, and may refuse (its user or role is gone, or changed).
   */
  /** The policies a token's entity and groups grant now (lookups report them). */
  readonly identityPolicies: (entityId: string) => readonly string[];
  readonly renew: (input: { readonly entry: TokenEntry; readonly token: string; readonly increment: number; readonly connection: ConnectionInfo }) => Promise<{ auth: AuthResult; warnings: string[] }>;
}

const createFields = {
  id: field.string({ description: 'Token value to use instead of a random one (root only).' }),
  role_name: field.string({ description: 'Role to create the token against.' }),
  policies: field.strings({ description: 'Policies of the token; a subset of the creator\'s.' }),
  meta: field.stringMap({ description: 'Metadata attached to the token.' }),
  no_parent: field.bool({ description: 'Create an orphan token (root or sudo only).' }),
  no_default_policy: field.bool({ description: 'Leave the default policy off.' }),
  renewable: field.bool({ description: 'Whether the token can be renewed.', default: true }),
  ttl: field.durationSeconds({ description: 'Initial TTL.' }),
  lease: field.durationSeconds({ description: 'Deprecated alias of ttl.' }),
  type: field.string({ description: 'Token type: "service" (the default) or "batch".', default: 'service' }),
  explicit_max_ttl: field.durationSeconds({ description: 'Hard cap on the lifetime, renewals included.' }),
  display_name: field.string({ description: 'Name shown for the token.' }),
  num_uses: field.int({ description: 'Number of requests the token may make; 0 is unlimited.' }),
  period: field.durationSeconds({ description: 'Make the token periodic (root or sudo only).' }),
  entity_alias: field.string({ description: 'Entity alias to bind the token to (not supported yet).' }),
};

const tokenField = { token: field.string({ description: 'The token.' }) };
const accessorField = { accessor: field.string({ description: 'The token accessor.' }) };
const incrementField = { increment: field.durationSeconds({ description: 'Requested TTL extension.' }) };

/** The auth/token/ backend: the token store's API. Its TTLs are its mount's (ctx.system). */
export function tokenBackend(ctx: BackendContext, deps: TokenBackendDeps): Backend {
  const { store } = deps;
  const { system } = ctx;
  const clock = system.clock;

  const caller = (ctx: PathContext): CallerIdentity => {
    if (!ctx.req.caller) throw permissionDenied();
    return ctx.req.caller;
  };

  async function create(ctx: PathContext, d: FieldValues<typeof createFields>, mode: 'create' | 'orphan', roleName: string): Promise<LogicalResponse> {
    const who = caller(ctx);
    const parent = await self(ctx);
    if (parent.type === 'batch') throw badRequest('batch tokens cannot create more tokens');
    const sudo = who.isRoot || (await deps.hasSudo(who, `auth/token/${ctx.req.path}`));
    let role: TokenRole | null = null;
    if (roleName) {
      role = await loadRole(ctx.req.storage, roleName);
      if (!role) throw badRequest(`unknown role ${roleName}`);
    }
    // Unless the caller names a type, a token role's token_type decides (Vault's default-batch).
    const type = !ctx.provided.has('type') || d.type === 'default' || d.type === '' ? (role?.token_type === 'batch' ? 'batch' : 'service') : d.type;
    if (type !== 'service' && type !== 'batch') throw badRequest('invalid "type": must be "service" or "batch"');
    if (ctx.provided.has('id') && !who.isRoot) throw badRequest('root or sudo privileges required to specify token id');
    if (d.no_parent && !sudo) throw badRequest('root or sudo privileges required to create orphan token');
    if (d.num_uses < 0) throw badRequest('number of uses cannot be negative');
    if (ctx.provided.has('period') && !sudo && !role) throw badRequest('root or sudo privileges required to create periodic token');
    if (d.entity_alias) throw badRequest('entity_alias is not supported yet');

    const noDefault = d.no_default_policy || (role?.token_no_default_policy ?? false);
    let policies = ctx.provided.has('policies') ? d.policies : [...parent.policies];
    if (role) {
      if (role.allowed_policies.length) {
        const allowed = sanitizePolicies(role.allowed_policies, !noDefault);
        const requested = ctx.provided.has('policies') ? sanitizePolicies(d.policies, false) : allowed;
        if (!requested.every((p) => allowed.includes(p))) throw badRequest('token policies must be subset of the role\'s allowed policies');
        policies = requested;
      } else if (!sudo && !sanitizePolicies(policies, false).every((p) => parent.policies.includes(p))) {
        throw badRequest('child policies must be subset of parent');
      }
      if (role.disallowed_policies.some((p) => policies.includes(p))) throw badRequest('token policies include a disallowed policy');
    } else if (!sudo && !sanitizePolicies(policies, false).every((p) => parent.policies.includes(p))) {
      throw badRequest('child policies must be subset of parent');
    }
    policies = sanitizePolicies(policies, !noDefault);
    if (policies.includes('root') && !who.isRoot) throw badRequest('root tokens may not be created by a non-root token');

    const period = role?.token_period || d.period;
    const orphan = mode === 'orphan' || d.no_parent || (role?.orphan ?? false);
    const path = `auth/token/${mode === 'orphan' ? 'create-orphan' : roleName ? `create/${roleName}${role?.path_suffix ? `/${role.path_suffix}` : ''}` : 'create'}`;
    // The core mints the token from this grant, as it does a login's.
    return {
      grant: {
        policies,
        noDefaultPolicy: true, // "default" is already in or deliberately out of `policies`
        displayName: d.display_name.replace(/[^a-zA-Z0-9-]/g, '-'),
        metadata: d.meta,
        ttl: d.ttl || d.lease || role?.token_ttl || 0,
        maxTtl: period > 0 ? 0 : (role?.token_max_ttl ?? 0),
        explicitMaxTtl: role?.token_explicit_max_ttl || d.explicit_max_ttl,
        period,
        numUses: d.num_uses || (role?.token_num_uses ?? 0),
        renewable: d.renewable && (role?.renewable ?? true),
        tokenType: type,
        tokenStore: { childOfCaller: !orphan, ...(ctx.provided.has('id') ? { id: d.id } : {}), role: role?.name ?? '', path },
      },
    };
  }

  const byToken = async (token: string): Promise<TokenEntry> => {
    const entry = await store.lookup(token);
    if (!entry) throw badRequest('bad token');
    return entry;
  };
  /** Vault answers a lookup of a token that is not live with 403 "bad token". */
  const lookedUp = async (token: string): Promise<TokenEntry> => {
    const entry = await store.lookup(token);
    if (!entry) throw new CofferError('permission_denied', 'bad token');
    return entry;
  };
  const byAccessor = async (accessor: string): Promise<TokenEntry> => {
    const entry = await store.lookupByAccessor(accessor);
    if (!entry) throw badRequest('invalid accessor');
    return entry;
  };
  const self = async (ctx: PathContext): Promise<TokenEntry> => {
    const token = ctx.req.clientToken ?? '';
    const entry = isBatchToken(token) ? await store.lookup(token) : await store.lookupByHash(caller(ctx).tokenHash, { duringOwnRequest: true });
    if (!entry) throw permissionDenied();
    return entry;
  };
  /** Batch tokens live exactly their TTL: they are never renewed, and revoked only with their parent. */
  const notBatch = (entry: TokenEntry, what: 'renewed' | 'revoked'): TokenEntry => {
    if (entry.type === 'batch') throw badRequest(`batch tokens cannot be ${what}`);
    return entry;
  };
  const renew = async (ctx: PathContext, entry: TokenEntry, token: string, increment: number): Promise<LogicalResponse> => {
    notBatch(entry, 'renewed');
    const { auth, warnings } = await deps.renew({ entry, token, increment, connection: ctx.req.connection });
    return { auth, ...(warnings.length ? { warnings } : {}) };
  };

  const help = (synopsis: string) => ({ synopsis, description: synopsis });
  const describe = (entry: TokenEntry, token: string) => lookupData(entry, { token, nowMs: clock.now(), identityPolicies: deps.identityPolicies(entry.entityId) });

  return defineBackend({
    type: 'token',
    system,
    receivesClientToken: true,
    sudoPaths: ['revoke-orphan*', 'accessors*'],
    paths: [
      definePath({
        pattern: 'create-orphan',
        fields: createFields,
        operations: { update: { summary: 'Create an orphan token.', handler: (ctx, d) => create(ctx, d, 'orphan', '') } },
        help: help('Create a token without a parent.'),
      }),
      definePath({
        pattern: `create/${genericName('role_name')}`,
        fields: createFields,
        operations: { update: { summary: 'Create a token from a role.', handler: (ctx, d) => create(ctx, d, 'create', d.role_name) } },
        help: help('Create a token from a role.'),
      }),
      definePath({
        pattern: 'create',
        fields: createFields,
        operations: { update: { summary: 'Create a token.', handler: (ctx, d) => create(ctx, d, 'create', '') } },
        help: help('Create a child token of the caller.'),
      }),
      definePath({
        pattern: 'lookup',
        fields: tokenField,
        operations: {
          update: { summary: 'Look up a token.', handler: async (_ctx, d) => ({ data: describe(await lookedUp(d.token), d.token) }) },
          read: { summary: 'Look up a token.', handler: async (_ctx, d) => ({ data: describe(await lookedUp(d.token), d.token) }) },
        },
        help: help('Look up a token by its value.'),
      }),
      definePath({
        pattern: 'lookup-self',
        fields: {},
        operations: {
          read: { summary: 'Look up the calling token.', handler: async (ctx) => ({ data: describe(await self(ctx), selfToken(ctx)) }) },
          update: { summary: 'Look up the calling token.', handler: async (ctx) => ({ data: describe(await self(ctx), selfToken(ctx)) }) },
        },
        help: help('Look up the calling token.'),
      }),
      definePath({
        pattern: 'lookup-accessor',
        fields: accessorField,
        operations: { update: { summary: 'Look up a token by accessor.', handler: async (_ctx, d) => ({ data: describe(await byAccessor(d.accessor), '') }) } },
        help: help('Look up a token by its accessor; the token itself is not returned.'),
      }),
      definePath({
        pattern: 'renew',
        fields: { ...tokenField, ...incrementField },
        operations: { update: { summary: 'Renew a token.', handler: async (ctx, d) => renew(ctx, await byToken(d.token), d.token, d.increment) } },
        help: help('Renew a token.'),
      }),
      definePath({
        pattern: 'renew-self',
        fields: incrementField,
        operations: { update: { summary: 'Renew the calling token.', handler: async (ctx, d) => renew(ctx, await self(ctx), selfToken(ctx), d.increment) } },
        help: help('Renew the calling token.'),
      }),
      definePath({
        pattern: 'renew-accessor',
        fields: { ...accessorField, ...incrementField },
        operations: { update: { summary: 'Renew a token by accessor.', handler: async (ctx, d) => renew(ctx, await byAccessor(d.accessor), '', d.increment) } },
        help: help('Renew a token by its accessor.'),
      }),
      definePath({
        pattern: 'revoke',
        fields: tokenField,
        operations: { update: { summary: 'Revoke a token and its children.', handler: async (_ctx, d) => noContent(revokeIfLive(store, d.token)) } },
        help: help('Revoke a token and all its children.'),
      }),
      definePath({
        pattern: 'revoke-self',
        fields: {},
        operations: { update: { summary: 'Revoke the calling token.', handler: async (ctx) => noContent(store.revokeTree(notBatch(await self(ctx), 'revoked').id)) } },
        help: help('Revoke the calling token and all its children.'),
      }),
      definePath({
        pattern: 'revoke-accessor',
        fields: accessorField,
        operations: { update: { summary: 'Revoke a token by accessor.', handler: async (_ctx, d) => noContent(store.revokeTree((await byAccessor(d.accessor)).id)) } },
        help: help('Revoke a token and its children by accessor.'),
      }),
      definePath({
        pattern: 'revoke-orphan',
        fields: tokenField,
        operations: { update: { summary: 'Revoke a token, keeping its children.', handler: async (_ctx, d) => noContent(store.revokeOrphan(notBatch(await byToken(d.token), 'revoked').id)) } },
        help: help('Revoke a token; its children become orphans. Requires sudo.'),
      }),
      definePath({
        pattern: 'accessors/?',
        fields: {},
        operations: { list: { summary: 'List token accessors.', handler: async () => ({ data: { keys: await store.accessors() } }) } },
        help: help('List the accessors of all tokens. Requires sudo.'),
      }),
      ...rolePaths,
    ],
  });
}

/** Revoking an unknown or expired token is a no-op success, as in Vault. */
async function revokeIfLive(store: TokenStore, token: string): Promise<void> {
  if (!token) throw badRequest('missing token');
  if (isBatchToken(token)) throw badRequest('batch tokens cannot be revoked');
  const entry = await store.lookup(token);
  if (entry) await store.revokeTree(entry.id);
}

/** The calling token's own value, which the pipeline passes only to the token backend. */
function selfToken(ctx: PathContext): string {
  const v = ctx.req.clientToken;
  if (v === undefined) throw new CofferError('internal', 'calling token unavailable');
  return v;
}

async function noContent(work: Promise<unknown>): Promise<null> {
  await work;
  return null;
}
