import type { BackendRequest, LogicalResponse, Operation, StorageView, SystemView } from '../logical/index.js';
import type { FieldSchemas, FieldValues } from './fields.js';

/** What a handler receives besides its typed fields. */
export interface PathContext {
  readonly req: BackendRequest;
  /** The mount's own storage view (the same as req.storage). */
  readonly storage: StorageView;
  /** The mount's TTLs, a logger and the clock. */
  readonly system: SystemView;
  /** Regex captures of the path pattern. */
  readonly captures: Readonly<Record<string, string>>;
  /** Names of the fields the caller actually sent (for partial updates). */
  readonly provided: ReadonlySet<string>;
}

export type Handler<F extends FieldSchemas> = (ctx: PathContext, data: FieldValues<F>) => Promise<LogicalResponse | null>;

export interface OperationSpec<F extends FieldSchemas> {
  readonly summary: string;
  readonly handler: Handler<F>;
}

export interface PathSpec<F extends FieldSchemas> {
  /** Regex source, anchored by the framework; named groups become captures. */
  readonly pattern: string;
  readonly fields: F;
  /** Set when the path takes any key (KV v1): unknown fields are passed through untouched. */
  readonly arbitraryData?: boolean;
  /** Decides create (false) versus update (true) for writes; omitted means always update. */
  readonly existenceCheck?: (ctx: PathContext) => Promise<boolean>;
  readonly operations: Partial<Record<Operation, OperationSpec<F>>>;
  readonly help: { readonly synopsis: string; readonly description: string };
}

/** A compiled path, with its field types erased for storage in a table. */
export interface CompiledPath {
  readonly regex: RegExp;
  readonly spec: PathSpec<FieldSchemas>;
}

export function definePath<F extends FieldSchemas>(spec: PathSpec<F>): CompiledPath {
  return { regex: new RegExp(`^${spec.pattern}$`), spec: spec as unknown as PathSpec<FieldSchemas> };
}

/** A name segment as Vault's framework.GenericNameRegex accepts it. */
export function genericName(name: string): string {
  return `(?<${name}>\\w(?:[\\w.-]*\\w)?)`;
}

/** Everything to the end of the path, including slashes. */
export function matchAll(name: string): string {
  return `(?<${name}>.*)`;
}

/**
 * LIST of the entries a backend keeps under a storage prefix (roles, users, certs): `pattern`
 * with or without its trailing slash, answering `{keys}` as Vault's ListResponse does.
 */
export function listPath(pattern: string, storagePrefix: string, what: string): CompiledPath {
  return definePath({
    pattern: `${pattern}/?`,
    fields: {},
    operations: { list: { summary: `List ${what}.`, handler: async (ctx) => ({ data: { keys: await ctx.storage.list(storagePrefix) } }) } },
    help: { synopsis: `List ${what}.`, description: `Lists every one of the ${what} of this mount.` },
  });
}
