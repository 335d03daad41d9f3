import { CofferError, MSG, type AuthRenewRequest, type AuthRenewal, type BackendRequest, type LogicalResponse, type StorageView, type SystemView } from '../logical/index.js';
import type { CompiledPath, PathContext } from './define-path.js';
import type { SecretType } from './define-secret.js';
import { parseFields } from './fields.js';

/** A mounted engine or auth method as the router sees it. */
export interface Backend {
  readonly type: string;
  /** Paths reachable without a token, relative to the mount (a trailing * is a prefix). */
  readonly unauthenticatedPaths: readonly string[];
  /** Paths that need the sudo capability on top of the operation's own. */
  readonly sudoPaths: readonly string[];
  /** Paths served while the server is sealed (the system backend alone has some). */
  readonly sealedPaths: readonly string[];
  /** True if handlers receive the caller's token itself (the token store answers lookup-self with it). */
  readonly receivesClientToken: boolean;
  /** Serve a request. Throws CofferError; returns null for "not found" reads. */
  handle(req: BackendRequest): Promise<LogicalResponse | null>;
  /** True if the target of a write exists (update) or not (create); undefined when unchecked. */
  exists(req: BackendRequest): Promise<boolean | undefined>;
  /** The secret type of that name this backend mints (its renew and revoke handlers), if any. */
  secretType(type: string): SecretType | undefined;
  /**
   * Work on a schedule (a static role's password rotation). The core calls it every few seconds
   * while unsealed, one call at a time per mount; a backend never runs timers of its own.
   */
  periodic?(): Promise<void>;
  /**
   * Called when this backend instance stops serving: at seal, when a tune or remount replaces
   * it, and when the mount is disabled (its leases already revoked, its storage about to go).
   * Release connections here.
   */
  cleanup?(): Promise<void>;
  /** Called for every revoked token, so data kept per token (a cubbyhole) goes with it. */
  tokenRevoked?(token: { readonly cubbyholeId: string }): Promise<void>;
  /** How many secrets the mount holds (a KV mount; the usage gauge vault.secret.kv.count). */
  countSecrets?(): Promise<number>;
  /**
   * An auth method's answer when a token it issued is renewed: the caps that hold now, or a
   * throw when the token must not live on (its user or role is gone, or its policies changed).
   * A method without it issues tokens that cannot be renewed.
   */
  renewAuth?(req: AuthRenewRequest): Promise<AuthRenewal>;
  /**
   * The name a login request claims, before anything is checked (Vault's alias lookahead): the
   * canonical user name, the role id. Null when the request is no login. A method that has it
   * gets user lockout.
   */
  loginAlias?(req: BackendRequest): string | null;
}

/** What a backend factory is given: its own storage view, its mount's settings and a system view. */
export interface BackendContext {
  readonly view: StorageView;
  /** The request path prefix of the mount ("secret/", "auth/token/"). */
  readonly mountPath: string;
  readonly options: Readonly<Record<string, string>> | null;
  readonly system: SystemView;
}

export type BackendFactory = (ctx: BackendContext) => Promise<Backend>;

/** A mount type as a registry offers it. */
export interface BackendRegistration {
  readonly factory: BackendFactory;
  /** Options a mount gets when it is enabled without any. */
  readonly defaultOptions?: Readonly<Record<string, string>>;
  /** Other type names that enable this type with preset options ("kv-v2" is kv with version 2). */
  readonly aliases?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Warnings a tune that changes the options answers with. */
  readonly optionWarnings?: (before: Readonly<Record<string, string>> | null, after: Readonly<Record<string, string>>) => string[];
  /** The type exists once per server, at a fixed path; it cannot be enabled again. */
  readonly singleton?: boolean;
}

/** Mount types by name: one registry for secrets engines, one for auth methods. */
export type BackendRegistry = Readonly<Record<string, BackendRegistration>>;

export interface BackendSpec {
  readonly type: string;
  readonly system: SystemView;
  readonly paths: readonly CompiledPath[];
  /** The kinds of secret the backend mints; a response's secret must name one of them. */
  readonly secrets?: readonly SecretType[];
  readonly unauthenticatedPaths?: readonly string[];
  readonly sudoPaths?: readonly string[];
  readonly sealedPaths?: readonly string[];
  readonly receivesClientToken?: boolean;
  readonly cleanup?: () => Promise<void>;
  readonly periodic?: () => Promise<void>;
  readonly tokenRevoked?: (token: { readonly cubbyholeId: string }) => Promise<void>;
  readonly countSecrets?: () => Promise<number>;
  readonly renewAuth?: (req: AuthRenewRequest) => Promise<AuthRenewal>;
  readonly loginAlias?: (req: BackendRequest) => string | null;
}

/**
 * The characters every match of a pattern starts with: those before its first regex construct,
 * less the last one when that construct makes it optional ("policy/?" starts with "policy").
 */
function literalHead(pattern: string): string {
  if (pattern.includes('|')) return ''; // an alternation may start with anything
  const i = pattern.search(/[\\^$.|?*+()[\]{}]/);
  if (i === -1) return pattern;
  return '?*{'.includes(pattern[i]!) ? pattern.slice(0, Math.max(0, i - 1)) : pattern.slice(0, i);
}

const NO_CAPTURES: Readonly<Record<string, string>> = Object.freeze({});

export function defineBackend(spec: BackendSpec): Backend {
  // Each pattern's literal head ("data/" of `data/(?<path>.*)`): a path that does not start with
  // it cannot match, so most patterns are passed over with startsWith instead of a regex run.
  const table = spec.paths.map((compiled) => ({ compiled, head: literalHead(compiled.spec.pattern) }));
  const match = (path: string): { compiled: CompiledPath; captures: Readonly<Record<string, string>> } | null => {
    for (const { compiled, head } of table) {
      if (!path.startsWith(head)) continue;
      const m = compiled.regex.exec(path);
      // Each exec makes a new groups object: it is this request's own.
      if (m) return { compiled, captures: m.groups ?? NO_CAPTURES };
    }
    return null;
  };

  const context = (compiled: CompiledPath, captures: Readonly<Record<string, string>>, req: BackendRequest) => {
    const parsed = parseFields(compiled.spec.fields, req.data, captures, req.operation !== 'read' && req.operation !== 'list');
    const ctx: PathContext = { req, storage: req.storage, system: spec.system, captures, provided: parsed.provided };
    return { ctx, values: parsed.values, unknown: compiled.spec.arbitraryData ? [] : parsed.unknown };
  };

  const secrets = new Map((spec.secrets ?? []).map((s) => [s.type, s]));

  return {
    type: spec.type,
    secretType: (type) => secrets.get(type),
    unauthenticatedPaths: spec.unauthenticatedPaths ?? [],
    sudoPaths: spec.sudoPaths ?? [],
    sealedPaths: spec.sealedPaths ?? [],
    receivesClientToken: spec.receivesClientToken ?? false,
    ...(spec.cleanup ? { cleanup: spec.cleanup } : {}),
    ...(spec.periodic ? { periodic: spec.periodic } : {}),
    ...(spec.tokenRevoked ? { tokenRevoked: spec.tokenRevoked } : {}),
    ...(spec.countSecrets ? { countSecrets: spec.countSecrets } : {}),
    ...(spec.renewAuth ? { renewAuth: spec.renewAuth } : {}),
    ...(spec.loginAlias ? { loginAlias: spec.loginAlias } : {}),

    async handle(req) {
      const found = match(req.path);
      if (!found) throw new CofferError('unsupported_path', MSG.unsupportedPath);
      const ops = found.compiled.spec.operations;
      const op =
        ops[req.operation] ??
        (req.operation === 'create' ? ops.update : req.operation === 'update' ? ops.create : undefined);
      if (!op) throw new CofferError('unsupported_operation', MSG.unsupportedOperation);
      const { ctx, values, unknown } = context(found.compiled, found.captures, req);
      const res = await op.handler(ctx, values);
      if (res && unknown.length > 0 && req.operation !== 'read' && req.operation !== 'list') {
        res.warnings = [...(res.warnings ?? []), `Endpoint ignored these unrecognized parameters: [${unknown.join(' ')}]`];
      }
      return res;
    },

    async exists(req) {
      const found = match(req.path);
      const check = found?.compiled.spec.existenceCheck;
      if (!found || !check) return undefined;
      return check(context(found.compiled, found.captures, req).ctx);
    },
  };
}
