import { X509Certificate as NodeCert } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { fromBER } from 'asn1js';
import { globAny } from '../../util/index.js';

/** The parts of a client certificate its trust and constraints are judged on. */
export interface ClientCert {
  readonly commonName: string;
  readonly organizationalUnits: readonly string[];
  readonly dnsNames: readonly string[];
  readonly emails: readonly string[];
  readonly uris: readonly string[];
  /** Extensions by OID, their values decoded as ASN.1 strings where they are one ("" otherwise). */
  readonly extensions: ReadonlyMap<string, string>;
  readonly serialNumber: string;
  readonly subjectKeyId: string;
  readonly authorityKeyId: string;
  /** SHA-256 of the DER, hex: what binds a token to the certificate it logged in with. */
  readonly fingerprint: string;
}

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';
const MAX_DEPTH = 10;

/** An extension value read as the string it holds (UTF8String, PrintableString, IA5String, …); "" when it is not one. */
function asnString(value: ArrayBuffer): string {
  const parsed = fromBER(value);
  if (parsed.offset === -1) return '';
  const block = parsed.result as unknown as { getValue?: () => unknown; valueBlock?: { value?: unknown } };
  const v = typeof block.getValue === 'function' ? block.getValue() : block.valueBlock?.value;
  return typeof v === 'string' ? v : '';
}

/** Hex as Vault prints key ids and serials: lower case, a colon between bytes. */
const colons = (hex: string) => hex.toLowerCase().replace(/(..)(?=.)/g, '$1:');

/** The leaf's names and extensions, read from the certificate the chain walk parsed. */
export function parseClientCert(node: NodeCert): ClientCert {
  const cert = new x509.X509Certificate(node.raw);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = san?.names.items ?? [];
  const of = (type: string) => names.filter((n) => n.type === type).map((n) => n.value);
  const extensions = new Map<string, string>();
  for (const e of cert.extensions) extensions.set(e.type, asnString(e.value));
  return {
    commonName: cert.subjectName.getField('CN')[0] ?? '',
    organizationalUnits: cert.subjectName.getField('OU'),
    dnsNames: of('dns'),
    emails: of('email'),
    uris: of('url'),
    extensions,
    serialNumber: colons(node.serialNumber),
    subjectKeyId: colons(cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId ?? ''),
    authorityKeyId: colons(cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId ?? ''),
    fingerprint: node.fingerprint256.replaceAll(':', '').toLowerCase(),
  };
}

const validAt = (c: NodeCert, now: number) => Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo);
const issuedBy = (child: NodeCert, parent: NodeCert) => child.checkIssued(parent) && child.verify(parent.publicKey);

/** Parsed path lengths, so a trusted certificate (kept between logins) is parsed once. */
const pathLengths = new WeakMap<NodeCert, { readonly limit: number | undefined }>();

/** The CA's pathLenConstraint: how many intermediates may follow it; undefined when it sets none. */
function pathLength(ca: NodeCert): number | undefined {
  let known = pathLengths.get(ca);
  if (!known) {
    known = { limit: new x509.X509Certificate(ca.raw).getExtension(x509.BasicConstraintsExtension)?.pathLength };
    pathLengths.set(ca, known);
  }
  return known.limit;
}

/**
 * Whether every CA of a path (leaf side first, the trusted certificate last) allows the
 * intermediates below it: RFC 5280's pathLenConstraint, where self-issued certificates do not
 * count (as Go's crypto/x509, which Vault uses, also holds the trusted root to it).
 */
function withinPathLengths(cas: readonly NodeCert[]): boolean {
  let below = 0;
  for (const ca of cas) {
    const limit = pathLength(ca);
    if (limit !== undefined && below > limit) return false;
    if (ca.subject !== ca.issuer) below++;
  }
  return true;
}

/**
 * Whether the presented chain (leaf first) leads to `trusted`: the leaf is that certificate
 * itself, or a path of valid signatures runs from the leaf through presented intermediates
 * (each a CA, each valid now, each within the path lengths of those above it) to it. The leaf
 * must be valid now and allowed for client authentication (no extended key usage, or
 * clientAuth, or any).
 */
export function chainsTo(presented: readonly NodeCert[], trusted: NodeCert, now: number): boolean {
  const leaf = presented[0];
  if (!leaf || !validAt(leaf, now)) return false;
  const eku = leaf.keyUsage;
  if (eku && eku.length && !eku.includes(CLIENT_AUTH) && !eku.includes(ANY_EKU)) return false;
  if (leaf.raw.equals(trusted.raw)) return true;
  if (!trusted.ca || !validAt(trusted, now)) return false;
  const intermediates = presented.slice(1).filter((c) => c.ca && validAt(c, now));
  const path: NodeCert[] = [];
  let at = leaf;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    if (issuedBy(at, trusted)) return path.length === 0 || withinPathLengths([...path, trusted]);
    const next = intermediates.find((c) => !c.raw.equals(at.raw) && !path.includes(c) && issuedBy(at, c));
    if (!next) return false;
    path.push(next);
    at = next;
  }
  return false;
}

/** The constraints a certs/ entry puts on the certificates it admits; empty lists admit all. */
export interface CertConstraints {
  readonly allowed_names: readonly string[];
  readonly allowed_common_names: readonly string[];
  readonly allowed_dns_sans: readonly string[];
  readonly allowed_email_sans: readonly string[];
  readonly allowed_uri_sans: readonly string[];
  readonly allowed_organizational_units: readonly string[];
  /** "oid:value" (value may be a glob); every one must be present. */
  readonly required_extensions: readonly string[];
}

/** Vault's matchesConstraints: each non-empty list must admit the certificate. */
export function admits(c: CertConstraints, cert: ClientCert): boolean {
  const some = (patterns: readonly string[], values: readonly string[]) => patterns.length === 0 || values.some((v) => globAny(patterns, v));
  // allowed_names (deprecated) matches the common name or any DNS or email SAN.
  if (!some(c.allowed_names, [cert.commonName, ...cert.dnsNames, ...cert.emails])) return false;
  if (!some(c.allowed_common_names, [cert.commonName])) return false;
  if (!some(c.allowed_dns_sans, cert.dnsNames)) return false;
  if (!some(c.allowed_email_sans, cert.emails)) return false;
  if (!some(c.allowed_uri_sans, cert.uris)) return false;
  if (!some(c.allowed_organizational_units, cert.organizationalUnits)) return false;
  return c.required_extensions.every((req) => {
    const colon = req.indexOf(':');
    const oid = colon === -1 ? req : req.slice(0, colon);
    const pattern = colon === -1 ? '*' : req.slice(colon + 1);
    const value = cert.extensions.get(oid);
    return value !== undefined && globAny([pattern], value);
  });
}
