import { definePath, listPath, field, genericName, readTokenSettings, tokenFields, writeTokenSettings, type CompiledPath, type TokenSettings } from '../../framework/index.js';
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

/** A Kubernetes label selector (metav1.LabelSelector): every matchLabels pair and every expression must hold. */
export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: ReadonlyArray<{ readonly key: string; readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; readonly values: readonly string[] }>;
}

const SELECTOR_FIELD = 'bound_service_account_namespace_selector';

/** The selector in a role, checked as the API server checks one; null when the role has none. */
export function parseSelector(selector: string): LabelSelector | null {
  if (!selector) return null;
  const bad = (why: string) => badRequest(`${SELECTOR_FIELD}: ${why}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(selector);
  } catch {
    throw bad('must be a JSON label selector');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad('must be a JSON label selector');
  const s = parsed as { matchLabels?: unknown; matchExpressions?: unknown };
  const labels = s.matchLabels ?? {};
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels) || Object.values(labels).some((v) => typeof v !== 'string')) throw bad('matchLabels must map label names to strings');
  const raw = s.matchExpressions ?? [];
  if (!Array.isArray(raw)) throw bad('matchExpressions must be a list');
  const expressions = raw.map((e: unknown, i): LabelSelector['matchExpressions'][number] => {
    const x = (typeof e === 'object' && e !== null ? e : {}) as { key?: unknown; operator?: unknown; values?: unknown };
    if (typeof x.key !== 'string' || x.key === '') throw bad(`matchExpressions[${i}] needs a key`);
    if (x.operator !== 'In' && x.operator !== 'NotIn' && x.operator !== 'Exists' && x.operator !== 'DoesNotExist') throw bad(`matchExpressions[${i}].operator must be In, NotIn, Exists or DoesNotExist`);
    const values = x.values ?? [];
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) throw bad(`matchExpressions[${i}].values must be a list of strings`);
    const withValues = x.operator === 'In' || x.operator === 'NotIn';
    if (withValues !== values.length > 0) throw bad(`matchExpressions[${i}]: ${withValues ? 'In and NotIn need values' : 'Exists and DoesNotExist take no values'}`);
    return { key: x.key, operator: x.operator, values: values as string[] };
  });
  // Kubernetes reads an empty selector as every namespace; a role must say which ones it means.
  if (Object.keys(labels).length === 0 && expressions.length === 0) throw bad('must hold matchLabels or matchExpressions');
  return { matchLabels: labels as Record<string, string>, matchExpressions: expressions };
}

/** Whether a namespace's labels satisfy the selector. */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  const has = (k: string) => Object.hasOwn(labels, k);
  if (!Object.entries(selector.matchLabels).every(([k, v]) => has(k) && labels[k] === v)) return false;
  return selector.matchExpressions.every((e) => {
    switch (e.operator) {
      case 'In':
        return has(e.key) && e.values.includes(labels[e.key]!);
      case 'NotIn':
        return !has(e.key) || !e.values.includes(labels[e.key]!);
      case 'Exists':
        return has(e.key);
      case 'DoesNotExist':
        return !has(e.key);
    }
  });
}

export const rolePaths: CompiledPath[] = [
  listPath('role', 'role/', 'the roles'),
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
          parseSelector(role.bound_service_account_namespace_selector);
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
