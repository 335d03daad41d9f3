/**
 * The one error type that crosses layers. Handlers throw it; `http/wire.ts` is the only code
 * that turns it into `{"errors": [...]}`. Anything thrown that is not a CofferError is answered
 * as a bare "internal error" so that no internal message (which may name a key) leaks.
 */
export type ErrorCode =
  | 'permission_denied'
  | 'unsupported_path'
  | 'unsupported_operation'
  | 'invalid_request'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'request_header_fields_too_large'
  | 'sealed'
  | 'uninitialized'
  | 'rate_limited'
  | 'internal'
  | 'not_implemented'
  | 'http_version_not_supported';

const HTTP_STATUS: Record<ErrorCode, number> = {
  permission_denied: 403,
  unsupported_path: 404,
  unsupported_operation: 405,
  invalid_request: 400,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  request_header_fields_too_large: 431,
  sealed: 503,
  uninitialized: 400,
  rate_limited: 429,
  internal: 500,
  not_implemented: 501,
  http_version_not_supported: 505,
};

export class CofferError extends Error {
  override readonly name = 'CofferError';
  readonly code: ErrorCode;
  /** Extra messages, answered after `message` in the errors array. */
  readonly details: readonly string[];
  /** HTTP headers the answer carries (a 429's Retry-After). */
  readonly headers: Readonly<Record<string, string>> | null;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions & { details?: readonly string[]; headers?: Readonly<Record<string, string>> }) {
    super(message, options);
    this.code = code;
    this.details = options?.details ?? [];
    this.headers = options?.headers ?? null;
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }
}

/** Wire-visible messages that are part of Vault's API; clients match on them. */
export const MSG = {
  permissionDenied: 'permission denied',
  sealed: 'Vault is sealed',
  unsupportedPath: 'unsupported path',
  unsupportedOperation: 'unsupported operation',
} as const;

export const permissionDenied = (): CofferError => new CofferError('permission_denied', MSG.permissionDenied);
export const badRequest = (message: string): CofferError => new CofferError('invalid_request', message);

export function isCofferError(e: unknown): e is CofferError {
  return e instanceof CofferError;
}
