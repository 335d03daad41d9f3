import { X509Certificate } from 'node:crypto';
import { definePath, listPath, field, genericName, readTokenSettings, tokenFields, writeTokenSettings, type CompiledPath, type TokenSettings } from '../../framework/index.js';
import { badRequest, getJSON, putJSON, type StorageView } from '../../logical/index.js';
import type { CertConstraints } from './verify.js';

/** A trusted certificate (certs/:name) and what the certificates it admits get. */
export interface CertEntry extends TokenSettings, CertConstraints {
  readonly certificate: string;
  readonly display_name: string;
  readonly allowed_metadata_extensions: readonly string[];
}

export const loadCert = (view: StorageView, name: string): Promise<CertEntry | null> => getJSON<CertEntry>(view, `cert/${name.toLowerCase()}`);

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate in a PEM bundle; a 400 naming the field when there is none or one does not parse. */
export function parsePemBundle(pem: string, name = 'certificate'): X509Certificate[] {
  const blocks = pem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw badRequest(`field "${name}" holds no PEM-encoded certificate`);
  return blocks.map((b) => {
    try {
      return new X509Certificate(b);
    } catch {
      throw badRequest(`field "${name}" holds a certificate that does not parse`);
    }
  });
}

const CONSTRAINT_KEYS = ['allowed_names', 'allowed_common_names', 'allowed_dns_sans', 'allowed_email_sans', 'allowed_uri_sans', 'allowed_organizational_units', 'required_extensions', 'allowed_metadata_extensions'] as const;

const certFields = {
  name: field.string({ description: 'Name of the trusted certificate.', required: true }),
  certificate: field.string({ description: 'PEM of the CA (or self-signed client certificate) to trust.' }),
  display_name: field.string({ description: 'Display name of issued tokens; the entry\'s name when empty.' }),
  allowed_names: field.strings({ description: 'Deprecated: names (globs) matched against the common name and DNS and email SANs.' }),
  allowed_common_names: field.strings({ description: 'Common names admitted (globs).' }),
  allowed_dns_sans: field.strings({ description: 'DNS SANs admitted (globs).' }),
  allowed_email_sans: field.strings({ description: 'Email SANs admitted (globs).' }),
  allowed_uri_sans: field.strings({ description: 'URI SANs admitted (globs).' }),
  allowed_organizational_units: field.strings({ description: 'Organizational units admitted (globs).' }),
  required_extensions: field.strings({ description: '"oid:value" extensions the certificate must carry (value may be a glob).' }),
  allowed_metadata_extensions: field.strings({ description: 'Extension OIDs copied into token metadata (dots become dashes).' }),
  ocsp_enabled: field.bool({ description: 'Check revocation by OCSP (not supported yet).' }),
  lease: field.durationSeconds({ description: 'Deprecated: use token_ttl.' }),
  ...tokenFields,
};

export const certPaths: CompiledPath[] = [
  listPath('certs', 'cert/', 'the trusted certificates'),
  definePath({
    pattern: `certs/${genericName('name')}`,
    fields: certFields,
    existenceCheck: async (ctx) => (await loadCert(ctx.storage, String(ctx.captures.name))) !== null,
    operations: {
      read: {
        summary: 'Read a trusted certificate.',
        handler: async (ctx, d) => {
          const c = await loadCert(ctx.storage, d.name);
          if (!c) return null;
          return {
            data: {
              certificate: c.certificate,
              display_name: c.display_name,
              ...Object.fromEntries(CONSTRAINT_KEYS.map((k) => [k, c[k]])),
              ocsp_enabled: false,
              ...readTokenSettings(c),
            },
          };
        },
      },
      update: {
        summary: 'Trust a certificate, and say what the certificates it admits get.',
        handler: async (ctx, d) => {
          const current = await loadCert(ctx.storage, d.name);
          const sent = (k: keyof typeof certFields) => ctx.provided.has(k);
          const certificate = sent('certificate') ? d.certificate : (current?.certificate ?? '');
          if (!certificate) throw badRequest('must provide a certificate');
          parsePemBundle(certificate);
          if (d.ocsp_enabled) throw badRequest('ocsp_enabled: OCSP revocation checks are not supported yet');
          const settings = writeTokenSettings(ctx, d, current ?? undefined);
          const list = (k: (typeof CONSTRAINT_KEYS)[number]) => (sent(k) ? d[k] : (current?.[k] ?? []));
          const entry: CertEntry = {
            ...settings,
            // `lease` is the oldest name of token_ttl.
            token_ttl: sent('lease') && !sent('token_ttl') && !sent('ttl') ? d.lease : settings.token_ttl,
            certificate,
            display_name: sent('display_name') ? d.display_name : (current?.display_name ?? ''),
            allowed_names: list('allowed_names'),
            allowed_common_names: list('allowed_common_names'),
            allowed_dns_sans: list('allowed_dns_sans'),
            allowed_email_sans: list('allowed_email_sans'),
            allowed_uri_sans: list('allowed_uri_sans'),
            allowed_organizational_units: list('allowed_organizational_units'),
            required_extensions: list('required_extensions'),
            allowed_metadata_extensions: list('allowed_metadata_extensions'),
          };
          if (entry.allowed_metadata_extensions.some((oid) => !/^\d+(\.\d+)+$/.test(oid))) throw badRequest('allowed_metadata_extensions must be OIDs such as 2.1.1.1');
          await putJSON(ctx.storage, `cert/${d.name.toLowerCase()}`, entry);
          return null;
        },
      },
      delete: {
        summary: 'Stop trusting a certificate.',
        handler: async (ctx, d) => {
          await ctx.storage.delete(`cert/${d.name.toLowerCase()}`);
          return null;
        },
      },
    },
    help: { synopsis: 'Manage a trusted certificate.', description: 'A CA whose client certificates may log in, the names they must carry, and the tokens they get.' },
  }),
];
