import { definePath, listPath, field, genericName, readTokenSettings, tokenFields, writeTokenSettings, type CompiledPath, type TokenSettings } from '../../framework/index.js';
import { badRequest, getJSON, putJSON, type StorageView } from '../../logical/index.js';
import { checkBoundClaims, type BoundClaimsType } from './claims.js';

export type RoleType = 'jwt' | 'oidc';

export interface JwtRole extends TokenSettings {
  readonly role_type: RoleType;
  readonly bound_audiences: readonly string[];
  readonly bound_subject: string;
  readonly bound_claims_type: BoundClaimsType;
  readonly bound_claims: Readonly<Record<string, unknown>>;
  readonly claim_mappings: Readonly<Record<string, string>>;
  readonly user_claim: string;
  readonly user_claim_json_pointer: boolean;
  readonly groups_claim: string;
  /** Seconds; 0 means the default, -1 none. */
  readonly clock_skew_leeway: number;
  readonly expiration_leeway: number;
  readonly not_before_leeway: number;
  readonly allowed_redirect_uris: readonly string[];
  readonly oidc_scopes: readonly string[];
  readonly max_age: number;
  readonly verbose_oidc_logging: boolean;
}

/** The role's own settings, as a read reports them (the token_* settings follow). */
const ROLE_KEYS = [
  'role_type', 'bound_audiences', 'bound_subject', 'bound_claims_type', 'bound_claims', 'claim_mappings', 'user_claim', 'user_claim_json_pointer', 'groups_claim',
  'clock_skew_leeway', 'expiration_leeway', 'not_before_leeway', 'allowed_redirect_uris', 'oidc_scopes', 'max_age', 'verbose_oidc_logging',
] as const satisfies ReadonlyArray<keyof JwtRole>;

export const loadRole = (view: StorageView, name: string): Promise<JwtRole | null> => getJSON<JwtRole>(view, `role/${name.toLowerCase()}`);

/** Metadata keys a claim may not be mapped onto: the login sets them itself. */
const RESERVED_METADATA = new Set(['role']);

const roleFields = {
  name: field.string({ description: 'Name of the role.', required: true }),
  role_type: field.string({ description: '"oidc" (the default: browser logins) or "jwt" (logins with a JWT).' }),
  bound_audiences: field.strings({ description: '"aud" values of which a token must carry one.' }),
  bound_subject: field.string({ description: 'The "sub" claim a token must carry.' }),
  bound_claims_type: field.string({ description: '"string" (exact match, the default) or "glob".' }),
  bound_claims: field.map({ description: 'Claims that must match: {claim or /json/pointer: value or [values]}.' }),
  claim_mappings: field.stringMap({ description: 'Claims copied to token and alias metadata: {claim: metadata key}.' }),
  user_claim: field.string({ description: 'The claim whose value names the entity alias (required).' }),
  user_claim_json_pointer: field.bool({ description: 'Read user_claim as a JSON pointer.' }),
  groups_claim: field.string({ description: 'The claim listing the external groups the user is in.' }),
  clock_skew_leeway: field.signedDurationSeconds({ description: 'Leeway on every time claim; 60s when 0, none when -1.', default: 60 }),
  expiration_leeway: field.signedDurationSeconds({ description: 'Lifetime assumed for a token without "exp"; 150s when 0, none when -1.', default: 150 }),
  not_before_leeway: field.signedDurationSeconds({ description: 'Leeway before "nbf" for a token without "nbf" or "iat"; 150s when 0, none when -1.', default: 150 }),
  allowed_redirect_uris: field.strings({ description: 'redirect_uri values an OIDC login may use.' }),
  oidc_scopes: field.strings({ description: 'Scopes asked for besides "openid".' }),
  max_age: field.durationSeconds({ description: 'How long ago the user may last have authenticated at the provider.' }),
  verbose_oidc_logging: field.bool({ description: 'Accepted for compatibility; coffer never logs tokens or claims.' }),
  callback_mode: field.string({ description: '"client" (the only mode supported).' }),
  ...tokenFields,
};

export const rolePaths: CompiledPath[] = [
  listPath('role', 'role/', 'the roles'),
  definePath({
    pattern: `role/${genericName('name')}`,
    fields: roleFields,
    existenceCheck: async (ctx) => (await loadRole(ctx.storage, String(ctx.captures.name))) !== null,
    operations: {
      read: {
        summary: 'Read a role.',
        handler: async (ctx, d) => {
          const r = await loadRole(ctx.storage, d.name);
          if (!r) return null;
          const own = Object.fromEntries(ROLE_KEYS.map((k) => [k, r[k]]));
          return { data: { ...own, callback_mode: 'client', ...readTokenSettings(r) } };
        },
      },
      update: {
        summary: 'Create or update a role.',
        handler: async (ctx, d) => {
          const current = await loadRole(ctx.storage, d.name);
          const sent = (k: keyof typeof roleFields) => ctx.provided.has(k);
          const pick = <K extends keyof JwtRole & keyof typeof d>(k: K, fallback: JwtRole[K]): JwtRole[K] => (sent(k) ? (d[k] as unknown as JwtRole[K]) : (current?.[k] ?? fallback));

          const roleType = (sent('role_type') ? d.role_type : (current?.role_type ?? '')) || 'oidc';
          if (roleType !== 'jwt' && roleType !== 'oidc') throw badRequest('invalid \'role_type\': must be "jwt" or "oidc"');
          const claimsType = (sent('bound_claims_type') ? d.bound_claims_type : (current?.bound_claims_type ?? '')) || 'string';
          if (claimsType !== 'string' && claimsType !== 'glob') throw badRequest('invalid \'bound_claims_type\': must be "string" or "glob"');
          if (sent('callback_mode') && d.callback_mode !== '' && d.callback_mode !== 'client') throw badRequest('callback_mode "direct" and "device" are not supported yet; use "client"');

          const role: JwtRole = {
            ...writeTokenSettings(ctx, d, current ?? undefined),
            role_type: roleType,
            bound_audiences: pick('bound_audiences', []),
            bound_subject: pick('bound_subject', ''),
            bound_claims_type: claimsType,
            bound_claims: pick('bound_claims', {}),
            claim_mappings: pick('claim_mappings', {}),
            user_claim: pick('user_claim', ''),
            user_claim_json_pointer: pick('user_claim_json_pointer', false),
            groups_claim: pick('groups_claim', ''),
            clock_skew_leeway: pick('clock_skew_leeway', 60),
            expiration_leeway: pick('expiration_leeway', 150),
            not_before_leeway: pick('not_before_leeway', 150),
            allowed_redirect_uris: pick('allowed_redirect_uris', []),
            oidc_scopes: pick('oidc_scopes', []),
            max_age: pick('max_age', 0),
            verbose_oidc_logging: pick('verbose_oidc_logging', false),
          };

          checkBoundClaims(role.bound_claims, role.bound_claims_type);
          const targets = new Set<string>();
          for (const key of Object.values(role.claim_mappings)) {
            if (RESERVED_METADATA.has(key)) throw badRequest(`metadata key "${key}" is reserved and may not be a mapping destination`);
            if (targets.has(key)) throw badRequest(`multiple keys are mapped to metadata key "${key}"`);
            targets.add(key);
          }
          if (!role.user_claim) throw badRequest('a user claim must be defined on the role');
          if (role.role_type === 'oidc' && role.allowed_redirect_uris.length === 0) throw badRequest("'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified.");
          // An OIDC login is bound to the client id; a JWT login needs a bound of its own, or any
          // token the issuer ever signed, for anyone, would log in.
          if (role.role_type === 'jwt' && !role.bound_audiences.length && !role.token_bound_cidrs.length && !role.bound_subject && !Object.keys(role.bound_claims).length) {
            throw badRequest('must have at least one bound constraint when creating/updating a role');
          }
          await putJSON(ctx.storage, `role/${d.name.toLowerCase()}`, role);
          return role.verbose_oidc_logging ? { data: {}, warnings: ['verbose_oidc_logging is accepted but has no effect: coffer never logs tokens or claims'] } : null;
        },
      },
      delete: {
        summary: 'Delete a role.',
        handler: async (ctx, d) => {
          await ctx.storage.delete(`role/${d.name.toLowerCase()}`);
          return null;
        },
      },
    },
    help: { synopsis: 'Manage a role.', description: 'Which tokens may log in with the role (bound audiences, subject and claims) and what they get.' },
  }),
];
