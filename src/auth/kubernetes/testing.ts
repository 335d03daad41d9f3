import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Server } from 'node:https';
import { SignJWT, jwtVerify } from 'jose';
import { startHttpsFixture } from '../../http/tls-fixture.js';

/**
 * A stand-in for a Kubernetes API server, for tests: Kubernetes cannot run here. It serves HTTPS
 * with its own certificate and answers the real wire shapes of authentication.k8s.io/v1
 * TokenReview (POST /apis/authentication.k8s.io/v1/tokenreviews) and of GET
 * /api/v1/namespaces/:name, checking tokens the way the API server does: the review's bearer
 * token and the reviewed token must both be JWTs it signed, unexpired, of service accounts
 * that still exist; requested audiences must be in the token's.
 */
export class FakeKubernetes {
  readonly #key: KeyObject;
  /** The signing key's public half, PEM (for pem_keys). */
  readonly publicPem: string;
  /** Service accounts that exist: "namespace/name" → uid. */
  readonly accounts = new Map<string, string>();
  readonly namespaceLabels = new Map<string, Record<string, string>>();
  /** The bearer token of each review received, in order. */
  readonly reviewers: string[] = [];
  #server: Server | null = null;
  host = '';
  caPem = '';

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.#key = privateKey;
    this.publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  async start(): Promise<void> {
    const { server, url, caPem } = await startHttpsFixture((req, res, body) => {
      void this.#answer(req.method ?? '', req.url ?? '', String(req.headers.authorization ?? ''), body).then(([status, answer]) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
    });
    this.#server = server;
    this.host = url;
    this.caPem = caPem;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }

  /** A projected service-account token, as the kubelet mounts it. */
  async token(opts: { namespace: string; name: string; audience?: string[]; expiresIn?: number; key?: KeyObject }): Promise<string> {
    const uid = this.accounts.get(`${opts.namespace}/${opts.name}`) ?? 'no-such-uid';
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      'kubernetes.io': { namespace: opts.namespace, serviceaccount: { name: opts.name, uid }, pod: { name: `${opts.name}-pod`, uid: 'pod-uid' } },
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'test' })
      .setIssuer('https://kubernetes.default.svc.cluster.local')
      .setSubject(`system:serviceaccount:${opts.namespace}:${opts.name}`)
      .setAudience(opts.audience ?? ['https://kubernetes.default.svc.cluster.local'])
      .setIssuedAt(now)
      .setExpirationTime(now + (opts.expiresIn ?? 3600))
      .sign(opts.key ?? this.#key);
  }

  async #account(token: string): Promise<{ namespace: string; name: string; uid: string; aud: string[] } | null> {
    try {
      const { payload } = await jwtVerify(token, this.#key);
      const k = payload['kubernetes.io'] as { namespace: string; serviceaccount: { name: string; uid: string } };
      const uid = this.accounts.get(`${k.namespace}/${k.serviceaccount.name}`);
      if (uid === undefined || uid !== k.serviceaccount.uid) return null;
      const aud = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
      return { namespace: k.namespace, name: k.serviceaccount.name, uid, aud };
    } catch {
      return null;
    }
  }

  async #answer(method: string, url: string, authorization: string, body: string): Promise<[number, unknown]> {
    const bearer = authorization.startsWith('Bearer ') ? authorization.slice(7) : '';
    if (!(await this.#account(bearer))) return [401, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 }];
    if (method === 'POST' && url === '/apis/authentication.k8s.io/v1/tokenreviews') {
      this.reviewers.push(bearer);
      const review = JSON.parse(body) as { apiVersion: string; kind: string; spec: { token: string; audiences?: string[] } };
      if (review.apiVersion !== 'authentication.k8s.io/v1' || review.kind !== 'TokenReview') return [400, { kind: 'Status', code: 400 }];
      const sa = await this.#account(review.spec.token);
      const wanted = review.spec.audiences ?? [];
      const ok = sa !== null && wanted.every((a) => sa.aud.includes(a));
      return [201, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: review.spec,
        status: ok
          ? { authenticated: true, user: { username: `system:serviceaccount:${sa.namespace}:${sa.name}`, uid: sa.uid, groups: ['system:serviceaccounts'] }, audiences: wanted.length ? wanted : sa.aud }
          : { authenticated: false, error: 'token is not valid' },
      }];
    }
    const ns = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(url);
    if (method === 'GET' && ns) {
      const labels = this.namespaceLabels.get(decodeURIComponent(ns[1]!));
      return labels ? [200, { kind: 'Namespace', apiVersion: 'v1', metadata: { name: ns[1], labels } }] : [404, { kind: 'Status', code: 404 }];
    }
    return [404, { kind: 'Status', code: 404 }];
  }
}
