import { readFileSync } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';

/**
 * Go's cipher suite names (what Vault's tls_cipher_suites takes) and OpenSSL's for the same
 * suites. TLS 1.3 suites are named alike in both; Go does not let them be chosen, and neither does
 * coffer: TLS 1.3 keeps OpenSSL's defaults whatever the list says, as Vault's listener does.
 */
const GO_TO_OPENSSL: Readonly<Record<string, string>> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
};
const TLS13 = new Set(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']);

/** The OpenSSL cipher list for Go suite names; throws naming the first unknown one. */
export function openSslCiphers(names: readonly string[]): string {
  const out: string[] = [];
  for (const raw of names) {
    const name = raw.trim();
    if (name === '' || TLS13.has(name)) continue;
    const mapped = GO_TO_OPENSSL[name];
    if (!mapped) throw new Error(`unknown or unsupported cipher suite "${name.slice(0, 64)}" in tls_cipher_suites`);
    if (!out.includes(mapped)) out.push(mapped);
  }
  return out.join(':');
}

/** What a TLS listener's secure context is built from; the files are read at each (re)load. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  readonly maxVersion: 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list for TLS 1.2 ("" for OpenSSL's defaults). */
  readonly ciphers: string;
  /** PEM CAs client certificates must chain to ("" for the system's); read only when verifying. */
  readonly clientCaFile: string;
  readonly verifyClients: boolean;
}

/** Read the certificate, key (and client CA) files into secure context options. */
export function secureContextOptions(t: TlsFiles): SecureContextOptions {
  return {
    cert: readFileSync(t.certFile),
    key: readFileSync(t.keyFile),
    minVersion: t.minVersion,
    maxVersion: t.maxVersion,
    ...(t.ciphers ? { ciphers: t.ciphers } : {}),
    ...(t.verifyClients && t.clientCaFile ? { ca: readFileSync(t.clientCaFile) } : {}),
  };
}
