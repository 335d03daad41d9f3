import { CofferError } from '../../logical/index.js';
import { OutboundError, sendJson } from '../../util/index.js';

/** What the Kubernetes API says of a service-account token (authentication.k8s.io/v1 TokenReview). */
export interface Reviewed {
  readonly authenticated: boolean;
  /** "system:serviceaccount:<namespace>:<name>" */
  readonly username: string;
  readonly uid: string;
  readonly audiences: readonly string[];
}

export interface ReviewTarget {
  /** https://host:port of the API server. */
  readonly host: string;
  /** PEM of the CA that signed the API server's certificate; the system's CAs when "". */
  readonly caPem: string;
  /** The bearer token the review is made with. */
  readonly reviewerJwt: string;
}

/** One JSON call to the API server with the reviewer's bearer token: its status and parsed body. */
async function call(target: ReviewTarget, method: 'GET' | 'POST', path: string, payload?: unknown): Promise<{ status: number; body: unknown }> {
  try {
    return await sendJson({ url: new URL(path, target.host), method, headers: { authorization: `Bearer ${target.reviewerJwt}` }, body: payload, caPem: target.caPem });
  } catch (e) {
    if (e instanceof OutboundError) throw new CofferError('internal', `the Kubernetes API could not be asked: ${e.message}`);
    throw e;
  }
}

/**
 * POST a TokenReview to the API server and read its status. A refusal by the API server becomes
 * a 403 naming its HTTP status, never the server's own message (it may quote the token).
 */
export async function reviewToken(target: ReviewTarget, token: string, audiences: readonly string[]): Promise<Reviewed> {
  const { status, body } = await call(target, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenReview',
    spec: { token, ...(audiences.length ? { audiences } : {}) },
  });
  if (status !== 200 && status !== 201) throw new CofferError('permission_denied', `the Kubernetes API refused the token review (HTTP ${status})`);
  const s = (body as { status?: { authenticated?: unknown; user?: { username?: unknown; uid?: unknown }; audiences?: unknown } }).status ?? {};
  return {
    authenticated: s.authenticated === true,
    username: typeof s.user?.username === 'string' ? s.user.username : '',
    uid: typeof s.user?.uid === 'string' ? s.user.uid : '',
    audiences: Array.isArray(s.audiences) ? s.audiences.filter((a): a is string => typeof a === 'string') : [],
  };
}

/** The labels of a namespace (for bound_service_account_namespace_selector). */
export async function namespaceLabels(target: ReviewTarget, namespace: string): Promise<Record<string, string>> {
  const { status, body } = await call(target, 'GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}`);
  if (status !== 200) throw new CofferError('permission_denied', `the Kubernetes API refused to read the namespace (HTTP ${status})`);
  const labels = (body as { metadata?: { labels?: unknown } }).metadata?.labels;
  return typeof labels === 'object' && labels !== null ? (labels as Record<string, string>) : {};
}
