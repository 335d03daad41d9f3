import { definePath, field, genericName, readTokenSettings, tokenFields, writeTokenSettings, type CompiledPath, type TokenSettings } from '../../framework/index.js';
import { badRequest, getJSON, putJSON, type StorageView } from '../../logical/index.js';

export interface KubeRole extends TokenSettings {
  readonly bound_service_account_names: readonly string[];
  readonly bound_service_account_namespaces: readonly string[];
  /** A label selector over namespaces (JSON), e.g. {"matchLabels": {"team": "a"}}. */
  readonly bound_service_account_namespace_selector: string;
  readonly audience: string;
  readonly alias_name_source: 'serviceaccount_uid' | 'serviceaccount_name';
}

export const loadRole = (view: StorageView, name: string): Promise<KubeRole | null> => getJSON<KubeRole>(view, `role/${name.toLowerCase()}`);

/** The selector's matchLabels; matchExpressions are refused until supported. */
export function selectorLabels(selector: string): Record<string, string> {
  if (!selector) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(selector);
  } catch {
    throw badRequest('field "bound_service_account_namespace_selector" must be a JSON label selector');
  }
  const s = parsed as { matchLabels?: unknown; matchExpressions?: unknown };
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest('field "bound_service_account_namespace_selector" must be a JSON label selector');
  if (s.matchExpressions !== undefined) throw badRequest('bound_service_account_namespace_selector: matchExpressions are not supported yet');
  const labels = s.matchLabels ?? {};
  if (typeof labels !== 'object' || labels === null || Object.values(labels).some((v) => typeof v !== 'string')) {
    throw badRequest('bound_service_account_namespace_selector: matchLabels must map label names to strings');
  }
  return labels as Record<string, string>;
}

export const rolePaths: CompiledPath[] = [
  definePath({
    pattern: 'role/?',
    fields: {},
    operations: { list: { summary: 'List roles.', handler: async (ctx) => ({ data: { keys: await ctx.storage.list('role/') } }) } },
    help: { synopsis: 'List roles.', description: 'Lists every role of this mount.' },
  }),
  definePath({
    pattern: `role/${genericName('name')}`,
    fields: {
      name: field.string({ description: 'Name of the role.', required: true }),
      bound_service_account_names: field.strings({ description: 'Service accounts that may log in (globs allowed).' }),
      bound_service_account_namespaces: field.strings({ description: 'Namespaces they may be in (globs allowed).' }),
      bound_service_account_namespace_selector: field.string({ description: 'A label selector over namespaces (JSON).' }),
      audience: field.string({ description: 'An audience the JWT must carry.' }),
      alias_name_source: field.string({ description: '"serviceaccount_uid" (default) or "serviceaccount_name".' }),
      ...tokenFields,
    },
    existenceCheck: async (ctx) => (await loadRole(ctx.storage, String(ctx.captures.name))) !== null,
    operations: {
      read: {
        summary: 'Read a role.',
        handler: async (ctx, d) => {
          const r = await loadRole(ctx.storage, d.name);
          if (!r) return null;
          return {
            data: {
              bound_service_account_names: r.bound_service_account_names,
              bound_service_account_namespaces: r.bound_service_account_namespaces,
              bound_service_account_namespace_selector: r.bound_service_account_namespace_selector,
              audience: r.audience,
              alias_name_source: r.alias_name_source,
              ...readTokenSettings(r),
            },
          };
        },
      },
      update: {
        summary: 'Create or update a role.',
        handler: async (ctx, d) => {
          const current = await loadRole(ctx.storage, d.name);
          const sent = (k: string) => ctx.provided.has(k);
          const source = sent('alias_name_source') ? d.alias_name_source : (current?.alias_name_source ?? 'serviceaccount_uid');
          if (source !== 'serviceaccount_uid' && source !== 'serviceaccount_name') throw badRequest('invalid alias_name_source: must be "serviceaccount_uid" or "serviceaccount_name"');
          const role: KubeRole = {
            ...writeTokenSettings(ctx, d, current ?? undefined),
            bound_service_account_names: sent('bound_service_account_names') ? d.bound_service_account_names : (current?.bound_service_account_names ?? []),
            bound_service_account_namespaces: sent('bound_service_account_namespaces') ? d.bound_service_account_namespaces : (current?.bound_service_account_namespaces ?? []),
            bound_service_account_namespace_selector: sent('bound_service_account_namespace_selector') ? d.bound_service_account_namespace_selector : (current?.bound_service_account_namespace_selector ?? ''),
            audience: sent('audience') ? d.audience : (current?.audience ?? ''),
            alias_name_source: source,
          };
          selectorLabels(role.bound_service_account_namespace_selector);
          if (role.bound_service_account_names.length === 0) throw badRequest('"bound_service_account_names" can not be empty');
          if (role.bound_service_account_namespaces.length === 0 && !role.bound_service_account_namespace_selector) {
            throw badRequest('"bound_service_account_namespaces" can not be empty if "bound_service_account_namespace_selector" is not set');
          }
          // A lone "*" for both would admit every service account of the cluster.
          if (role.bound_service_account_names.includes('*') && role.bound_service_account_namespaces.includes('*')) {
            throw badRequest('service_account_names and service_account_namespaces can not both be "*"');
          }
          await putJSON(ctx.storage, `role/${d.name.toLowerCase()}`, role);
          return null;
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
    help: { synopsis: 'Manage a role.', description: 'Which service accounts may log in with the role, and the tokens they get.' },
  }),
];
