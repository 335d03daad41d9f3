import { definePath, field, genericName, type CompiledPath, type FieldValues, type PathContext } from '../../framework/index.js';
import { badRequest, getJSON, putJSON, type StorageView } from '../../logical/index.js';

/** A token role: a named template for tokens created with auth/token/create/:role. */
export interface TokenRole {
  readonly name: string;
  readonly allowed_policies: readonly string[];
  readonly disallowed_policies: readonly string[];
  readonly orphan: boolean;
  readonly renewable: boolean;
  readonly path_suffix: string;
  readonly token_period: number;
  readonly token_explicit_max_ttl: number;
  readonly token_ttl: number;
  readonly token_max_ttl: number;
  readonly token_no_default_policy: boolean;
  readonly token_num_uses: number;
  readonly token_type: string;
  readonly allowed_entity_aliases: readonly string[];
}

const roleFields = {
  name: field.string({ description: 'Name of the role.', required: true }),
  allowed_policies: field.strings({ description: 'Policies tokens of this role may have; empty means a subset of the creator\'s.' }),
  disallowed_policies: field.strings({ description: 'Policies tokens of this role may never have.' }),
  orphan: field.bool({ description: 'Tokens of this role have no parent.' }),
  renewable: field.bool({ description: 'Tokens of this role can be renewed.', default: true }),
  path_suffix: field.string({ description: 'Suffix appended to the token path.' }),
  period: field.durationSeconds({ description: 'Deprecated alias of token_period.' }),
  token_period: field.durationSeconds({ description: 'Make tokens periodic with this period.' }),
  explicit_max_ttl: field.durationSeconds({ description: 'Deprecated alias of token_explicit_max_ttl.' }),
  token_explicit_max_ttl: field.durationSeconds({ description: 'Hard cap on the tokens\' lifetime.' }),
  token_ttl: field.durationSeconds({ description: 'Default TTL of tokens of this role.' }),
  token_max_ttl: field.durationSeconds({ description: 'Maximum TTL of tokens of this role.' }),
  token_no_default_policy: field.bool({ description: 'Leave the default policy off tokens of this role.' }),
  token_num_uses: field.int({ description: 'Uses allowed per token; 0 is unlimited.' }),
  token_type: field.string({ description: 'Token type: "service" (or "default", "default-service"), "batch" (or "default-batch").', default: 'service' }),
  allowed_entity_aliases: field.strings({ description: 'Entity aliases tokens of this role may be bound to.' }),
};

export async function loadRole(view: StorageView, name: string): Promise<TokenRole | null> {
  return getJSON<TokenRole>(view, `roles/${name.toLowerCase()}`);
}

function toRole(d: FieldValues<typeof roleFields>, provided: ReadonlySet<string>, prior: TokenRole | null): TokenRole {
  const pick = <K extends keyof TokenRole>(key: K, value: TokenRole[K], fieldName: string = key): TokenRole[K] =>
    provided.has(fieldName) || !prior ? value : prior[key];
  return {
    name: d.name.toLowerCase(),
    allowed_policies: pick('allowed_policies', d.allowed_policies),
    disallowed_policies: pick('disallowed_policies', d.disallowed_policies),
    orphan: pick('orphan', d.orphan),
    renewable: pick('renewable', d.renewable),
    path_suffix: pick('path_suffix', d.path_suffix),
    token_period: provided.has('period') ? d.period : pick('token_period', d.token_period),
    token_explicit_max_ttl: provided.has('explicit_max_ttl') ? d.explicit_max_ttl : pick('token_explicit_max_ttl', d.token_explicit_max_ttl),
    token_ttl: pick('token_ttl', d.token_ttl),
    token_max_ttl: pick('token_max_ttl', d.token_max_ttl),
    token_no_default_policy: pick('token_no_default_policy', d.token_no_default_policy),
    token_num_uses: pick('token_num_uses', d.token_num_uses),
    token_type: pick('token_type', d.token_type === 'default' || d.token_type === 'default-service' ? 'service' : d.token_type === 'default-batch' ? 'batch' : d.token_type),
    allowed_entity_aliases: pick('allowed_entity_aliases', d.allowed_entity_aliases),
  };
}

export const rolePaths: CompiledPath[] = [
  definePath({
    pattern: 'roles/?',
    fields: {},
    operations: {
      list: {
        summary: 'List token roles.',
        handler: async (ctx) => {
          const keys = await ctx.req.storage.list('roles/');
          return keys.length ? { data: { keys } } : null;
        },
      },
    },
    help: { synopsis: 'List token roles.', description: 'Lists the names of the token roles.' },
  }),
  definePath({
    pattern: `roles/${genericName('name')}`,
    fields: roleFields,
    existenceCheck: async (ctx) => (await loadRole(ctx.req.storage, ctx.captures.name ?? '')) !== null,
    operations: {
      read: {
        summary: 'Read a token role.',
        handler: async (ctx, d) => {
          const role = await loadRole(ctx.req.storage, d.name);
          return role ? { data: { ...role, period: role.token_period, explicit_max_ttl: role.token_explicit_max_ttl } } : null;
        },
      },
      create: { summary: 'Create a token role.', handler: writeRole },
      update: { summary: 'Update a token role.', handler: writeRole },
      delete: {
        summary: 'Delete a token role.',
        handler: async (ctx, d) => {
          await ctx.req.storage.delete(`roles/${d.name.toLowerCase()}`);
          return null;
        },
      },
    },
    help: { synopsis: 'Manage token roles.', description: 'Token roles fix the policies and lifetimes of tokens created from them.' },
  }),
];

async function writeRole(ctx: PathContext, d: FieldValues<typeof roleFields>): Promise<null> {
  const role = toRole(d, ctx.provided, await loadRole(ctx.req.storage, d.name));
  if (role.token_type !== 'service' && role.token_type !== 'batch') throw badRequest('invalid "token_type": must be "service", "batch", "default", "default-service" or "default-batch"');
  if (role.token_type === 'batch' && role.token_period > 0) throw badRequest('batch tokens cannot be periodic');
  await putJSON(ctx.req.storage, `roles/${role.name}`, role);
  return null;
}
