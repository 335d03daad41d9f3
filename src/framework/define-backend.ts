import { CofferError, MSG, type BackendRequest, type LogicalResponse } from '../logical/index.js';
import type { CompiledPath, PathContext } from './define-path.js';
import { parseFields } from './fields.js';

/** A mounted engine or auth method as the router sees it. */
export interface Backend {
  readonly type: string;
  /** Paths reachable without a token, relative to the mount (a trailing * is a prefix). */
  readonly unauthenticatedPaths: readonly string[];
  /** Paths that need the sudo capability on top of the operation's own. */
  readonly sudoPaths: readonly string[];
  /** Serve a request. Throws CofferError; returns null for "not found" reads. */
  handle(req: BackendRequest): Promise<LogicalResponse | null>;
  /** True if the target of a write exists (update) or not (create); undefined when unchecked. */
  exists(req: BackendRequest): Promise<boolean | undefined>;
  /** Called when the mount is disabled: the backend's storage is about to be removed. */
  cleanup?(): Promise<void>;
}

export interface BackendSpec {
  readonly type: string;
  readonly paths: readonly CompiledPath[];
  readonly unauthenticatedPaths?: readonly string[];
  readonly sudoPaths?: readonly string[];
  readonly cleanup?: () => Promise<void>;
}

export function defineBackend(spec: BackendSpec): Backend {
  const match = (path: string): { compiled: CompiledPath; captures: Record<string, string> } | null => {
    for (const compiled of spec.paths) {
      const m = compiled.regex.exec(path);
      if (m) return { compiled, captures: { ...(m.groups ?? {}) } };
    }
    return null;
  };

  const context = (compiled: CompiledPath, captures: Record<string, string>, req: BackendRequest) => {
    const parsed = parseFields(compiled.spec.fields, req.data, captures);
    const ctx: PathContext = { req, captures, provided: parsed.provided };
    return { ctx, values: parsed.values, unknown: compiled.spec.arbitraryData ? [] : parsed.unknown };
  };

  return {
    type: spec.type,
    unauthenticatedPaths: spec.unauthenticatedPaths ?? [],
    sudoPaths: spec.sudoPaths ?? [],
    ...(spec.cleanup ? { cleanup: spec.cleanup } : {}),

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
