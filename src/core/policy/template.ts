import type { PathRule, Policy } from './policy.js';

/** What a templated policy path may name of the caller: its entity, its aliases and its groups. */
export interface TemplateIdentity {
  readonly entity: {
    readonly id: string;
    readonly name: string;
    readonly metadata: Readonly<Record<string, string>>;
    readonly aliases: readonly {
      readonly id: string;
      readonly mountAccessor: string;
      readonly name: string;
      readonly metadata: Readonly<Record<string, string>>;
      readonly customMetadata: Readonly<Record<string, string>>;
    }[];
  } | null;
  readonly groups: readonly { readonly id: string; readonly name: string; readonly metadata: Readonly<Record<string, string>> }[];
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

export const isTemplated = (rule: PathRule): boolean => rule.pattern.includes('{{');

const own = (m: Readonly<Record<string, string>>, key: string): string | null => (Object.hasOwn(m, key) ? m[key]! : null);

/** The value a placeholder names (Vault's identity templating), or null if it names nothing. */
function valueOf(expr: string, who: TemplateIdentity): string | null {
  const e = who.entity;
  const parts = expr.split('.');
  if (parts[0] !== 'identity') return null;
  if (parts[1] === 'entity' && e) {
    if (parts.length === 3 && parts[2] === 'id') return e.id;
    if (parts.length === 3 && parts[2] === 'name') return e.name;
    if (parts[2] === 'metadata' && parts.length === 4) return own(e.metadata, parts[3]!);
    if (parts[2] === 'aliases' && parts.length >= 5) {
      const alias = e.aliases.find((a) => a.mountAccessor === parts[3]);
      if (!alias) return null;
      if (parts.length === 5 && parts[4] === 'id') return alias.id;
      if (parts.length === 5 && parts[4] === 'name') return alias.name;
      if (parts.length === 6 && parts[4] === 'metadata') return own(alias.metadata, parts[5]!);
      if (parts.length === 6 && parts[4] === 'custom_metadata') return own(alias.customMetadata, parts[5]!);
    }
    return null;
  }
  if (parts[1] === 'groups' && parts.length >= 5) {
    const group = parts[2] === 'ids' ? who.groups.find((g) => g.id === parts[3]) : parts[2] === 'names' ? who.groups.find((g) => g.name === parts[3]) : undefined;
    if (!group) return null;
    if (parts.length === 5 && parts[4] === 'id') return group.id;
    if (parts.length === 5 && parts[4] === 'name') return group.name;
    if (parts.length === 6 && parts[4] === 'metadata') return own(group.metadata, parts[5]!);
  }
  return null;
}

/**
 * A value may stand in a path only as literal text: never empty (which would widen the path),
 * never a "+" segment (which the matcher would read as a wildcard), nothing that is not printable.
 * "*" and "{{" need no check: the rule's shape comes from the template, and values are never
 * scanned for placeholders again.
 */
function literal(value: string): boolean {
  return value !== '' && !value.split('/').includes('+') && !/[\x00-\x1f\x7f]/.test(value);
}

/**
 * A templated rule for one caller: its placeholders filled in once, left to right, or null when
 * one names nothing (the rule then grants nothing, as in Vault). Whether the rule is a prefix or
 * has segment wildcards is decided by the template, never by a value: an entity named "*" gets
 * the literal path ".../*", not everything under "...".
 */
export function resolveRule(rule: PathRule, who: TemplateIdentity): PathRule | null {
  let missing = false;
  const path = rule.path.replace(PLACEHOLDER, (_m, expr: string) => {
    const v = valueOf(expr, who);
    if (v === null || !literal(v)) missing = true;
    return v ?? '';
  });
  if (missing) return null;
  return { ...rule, path, pattern: rule.isPrefix ? `${path}*` : path };
}

/** A policy with its templated rules resolved for one caller (untemplated rules as they are). */
export function resolvePolicy(policy: Policy, who: TemplateIdentity): Policy {
  const rules: PathRule[] = [];
  for (const rule of policy.rules) {
    if (!isTemplated(rule)) rules.push(rule);
    else {
      const resolved = resolveRule(rule, who);
      if (resolved) rules.push(resolved);
    }
  }
  return { ...policy, rules };
}
