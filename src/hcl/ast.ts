/**
 * The HCL (v1, as Vault's policies and server config use it) syntax tree. A block
 * `path "a" { ... }` is the same as `path = { "a" = { ... } }`: labels become nested objects,
 * and a key may repeat, so an object keeps its items in order rather than as a map.
 */
export type HclValue =
  | { readonly kind: 'string'; readonly value: string; readonly line: number }
  | { readonly kind: 'number'; readonly value: number; readonly line: number }
  | { readonly kind: 'bool'; readonly value: boolean; readonly line: number }
  | { readonly kind: 'null'; readonly line: number }
  | { readonly kind: 'list'; readonly items: readonly HclValue[]; readonly line: number }
  | { readonly kind: 'object'; readonly items: readonly HclItem[]; readonly line: number };

export interface HclItem {
  readonly key: string;
  readonly value: HclValue;
  readonly line: number;
}

export type HclObject = Extract<HclValue, { kind: 'object' }>;

/** Plain JS value of a node (objects with repeated keys keep the last), for simple fields. */
export function toPlain(v: HclValue): unknown {
  switch (v.kind) {
    case 'string':
    case 'number':
    case 'bool':
      return v.value;
    case 'null':
      return null;
    case 'list':
      return v.items.map(toPlain);
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const item of v.items) out[item.key] = toPlain(item.value);
      return out;
    }
  }
}
