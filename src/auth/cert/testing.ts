import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { Utf8String } from 'asn1js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/** A certificate with its key, as PEM, and its DER for in-process requests. */
export interface Issued {
  readonly cert: x509.X509Certificate;
  readonly keys: CryptoKeyPair;
  readonly certPem: string;
  readonly keyPem: string;
  readonly der: Uint8Array;
}

async function keyPem(keys: CryptoKeyPair): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return `-----BEGIN PRIVATE KEY-----\n${Buffer.from(pkcs8).toString('base64').replace(/(.{64})/g, '$1\n').trim()}\n-----END PRIVATE KEY-----\n`;
}

async function issued(cert: x509.X509Certificate, keys: CryptoKeyPair): Promise<Issued> {
  return { cert, keys, certPem: cert.toString('pem'), keyPem: await keyPem(keys), der: new Uint8Array(cert.rawData) };
}

const newKeys = () => webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
let serial = 1;
const nextSerial = () => (serial++).toString(16).padStart(4, '0');

/** A test CA: a self-signed root (or an intermediate under another CA) that issues client certificates. */
export class TestCa {
  private constructor(readonly issued: Issued) {}

  static async root(name = 'CN=Test Root CA'): Promise<TestCa> {
    const keys = await newKeys();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: nextSerial(),
      name,
      notBefore: new Date(Date.now() - 3600_000),
      notAfter: new Date(Date.now() + 86_400_000),
      signingAlgorithm: ALG,
      keys,
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true), await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)],
    });
    return new TestCa(await issued(cert, keys));
  }

  get pem(): string {
    return this.issued.certPem;
  }

  /** An intermediate CA under this one; `pathLength` intermediates may follow it (default 0). */
  async intermediate(name = 'CN=Test Intermediate CA', pathLength = 0): Promise<TestCa> {
    const keys = await newKeys();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: nextSerial(),
      subject: name,
      issuer: this.issued.cert.subject,
      notBefore: new Date(Date.now() - 3600_000),
      notAfter: new Date(Date.now() + 86_400_000),
      signingAlgorithm: ALG,
      publicKey: keys.publicKey,
      signingKey: this.issued.keys.privateKey,
      extensions: [new x509.BasicConstraintsExtension(true, pathLength, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true), await x509.AuthorityKeyIdentifierExtension.create(this.issued.keys.publicKey)],
    });
    return new TestCa(await issued(cert, keys));
  }

  /** A client certificate: clientAuth EKU unless `eku` says otherwise; valid for a day unless `validFor` (ms, negative for expired). */
  async client(opts: { subject: string; dns?: string[]; emails?: string[]; uris?: string[]; eku?: string[]; validFor?: number; extensions?: Record<string, string> }): Promise<Issued> {
    const keys = await newKeys();
    const names = [...(opts.dns ?? []).map((value) => ({ type: 'dns' as const, value })), ...(opts.emails ?? []).map((value) => ({ type: 'email' as const, value })), ...(opts.uris ?? []).map((value) => ({ type: 'url' as const, value }))];
    const validFor = opts.validFor ?? 86_400_000;
    const custom = Object.entries(opts.extensions ?? {}).map(([oid, value]) => new x509.Extension(oid, false, new Utf8String({ value }).toBER()));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: nextSerial(),
      subject: opts.subject,
      issuer: this.issued.cert.subject,
      notBefore: new Date(Date.now() - 3600_000 + Math.min(validFor, 0) * 2),
      notAfter: new Date(Date.now() + validFor),
      signingAlgorithm: ALG,
      publicKey: keys.publicKey,
      signingKey: this.issued.keys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false),
        new x509.ExtendedKeyUsageExtension(opts.eku ?? [x509.ExtendedKeyUsage.clientAuth]),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(this.issued.keys.publicKey),
        ...(names.length ? [new x509.SubjectAlternativeNameExtension(names)] : []),
        ...custom,
      ],
    });
    return issued(cert, keys);
  }
}
