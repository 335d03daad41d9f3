import { definePath, field, type CompiledPath, type PathContext } from '../../framework/index.js';
import { badRequest, permissionDenied, type LogicalResponse } from '../../logical/index.js';
import { PgpKey } from '../../seal/index.js';
import { allowOperation } from '../policy/index.js';
import type { SysDeps } from './sys-deps.js';
import { decodeShare } from './sys-seal.js';

/**
 * Like Vault's, these take no token: a quorum of key shares is the authority, and the nonce ties
 * each share to the attempt its holder checked.
 */
export const UNAUTHENTICATED_KEY_PATHS = ['generate-root/attempt', 'generate-root/update', 'rekey/init', 'rekey/update', 'rekey/verify'];

const raw = (body: unknown): LogicalResponse => ({ raw: body });

/**
 * Cancelling drops every share the holders gave, so unlike Vault (where anyone may) it takes a
 * token whose policy grants delete and sudo on the path: an unauthenticated caller cannot
 * throw away an attempt in progress, nor cancel one to start their own in its place.
 */
async function mayCancel(deps: SysDeps, ctx: PathContext, path: string): Promise<void> {
  const caller = ctx.req.caller;
  if (!caller) throw permissionDenied();
  const decision = allowOperation(await deps.aclForCaller(caller), { path: `sys/${path}`, operation: 'delete', data: {} });
  if (!decision.allowed || !decision.sudo) throw permissionDenied();
}

function shareOf(key: unknown): Uint8Array {
  if (typeof key !== 'string' || key === '') throw badRequest("'key' must be specified in request body as JSON");
  return decodeShare(key);
}

const nonceOf = (nonce: unknown): string => (typeof nonce === 'string' ? nonce : '');

const shareFields = {
  key: field.raw({ description: 'One key share, hex or base64.' }),
  nonce: field.raw({ description: 'The nonce of the attempt this share is for.' }),
};

export function rootKeyPaths(deps: SysDeps): CompiledPath[] {
  const { rootGeneration: gen, rekey } = deps;
  return [
    definePath({
      pattern: 'generate-root/attempt',
      fields: {
        otp: field.string({ description: 'A one-time password (28 base62 characters) the new token is XORed with; the server makes one when neither this nor pgp_key is given.' }),
        pgp_key: field.string({ description: 'A base64-encoded OpenPGP public key the new token is encrypted to.' }),
      },
      operations: {
        read: { summary: 'Read the root token generation progress.', handler: async () => raw(await gen.status()) },
        update: {
          summary: 'Start a root token generation.',
          handler: async (_ctx, d) => raw(await gen.start({ otp: d.otp, pgp: d.pgp_key ? await PgpKey.parse(d.pgp_key, 'pgp_key') : null })),
        },
        delete: {
          summary: 'Cancel the root token generation in progress.',
          handler: async (ctx) => {
            await mayCancel(deps, ctx, 'generate-root/attempt');
            await gen.cancel();
            return null;
          },
        },
      },
      help: { synopsis: 'Generate a new root token.', description: 'A quorum of key share holders makes a new root token; it is answered encoded under the OTP or encrypted to the PGP key.' },
    }),
    definePath({
      pattern: 'generate-root/update',
      fields: shareFields,
      operations: {
        update: { summary: 'Submit one key share towards the new root token.', handler: async (_ctx, d) => raw(await gen.update(shareOf(d.key), nonceOf(d.nonce))) },
      },
      help: { synopsis: 'Submit a key share for root token generation.', description: 'At the threshold the answer holds the encoded token.' },
    }),
    definePath({
      pattern: 'rekey/init',
      fields: {
        secret_shares: field.int({ description: 'Number of new key shares.' }),
        secret_threshold: field.int({ description: 'New shares needed to unseal.' }),
        pgp_keys: field.raw({ description: 'Base64-encoded OpenPGP public keys, one per new share: each share is encrypted to its holder.' }),
        backup: field.bool({ description: 'Keep the PGP-encrypted shares, readable at sys/rekey/backup.' }),
        require_verification: field.bool({ description: 'Put the new shares in force only once a threshold of them has been entered at sys/rekey/verify.' }),
      },
      operations: {
        read: { summary: 'Read the rekey progress.', handler: async () => raw(await rekey.status()) },
        update: {
          summary: 'Start a rekey.',
          handler: async (_ctx, d) =>
            raw(
              await rekey.start({
                secretShares: d.secret_shares,
                secretThreshold: d.secret_threshold,
                pgp: d.pgp_keys === undefined || d.pgp_keys === null ? [] : await PgpKey.parseList(d.pgp_keys, 'pgp_keys'),
                backup: d.backup,
                requireVerification: d.require_verification,
              }),
            ),
        },
        delete: {
          summary: 'Cancel the rekey in progress.',
          handler: async (ctx) => {
            await mayCancel(deps, ctx, 'rekey/init');
            await rekey.cancel();
            return null;
          },
        },
      },
      help: { synopsis: 'Replace the unseal key and its shares.', description: 'A quorum of the current shares makes new shares, with a new count and threshold; stored data is not touched.' },
    }),
    definePath({
      pattern: 'rekey/update',
      fields: shareFields,
      operations: {
        update: { summary: 'Submit one current key share towards the rekey.', handler: async (_ctx, d) => raw(await rekey.update(shareOf(d.key), nonceOf(d.nonce))) },
      },
      help: { synopsis: 'Submit a key share for the rekey.', description: 'At the threshold the answer holds the new shares, once.' },
    }),
    definePath({
      pattern: 'rekey/verify',
      fields: shareFields,
      operations: {
        read: { summary: 'Read the rekey verification progress.', handler: async () => raw(await rekey.verifyStatus()) },
        update: { summary: 'Submit one new key share to verify the rekey.', handler: async (_ctx, d) => raw(await rekey.verifyUpdate(shareOf(d.key), nonceOf(d.nonce))) },
        delete: {
          summary: 'Start the verification over.',
          handler: async (ctx) => {
            await mayCancel(deps, ctx, 'rekey/verify');
            await rekey.verifyCancel();
            return raw(await rekey.verifyStatus());
          },
        },
      },
      help: { synopsis: 'Verify the new key shares.', description: 'With require_verification, the new shares are in force once a threshold of them is entered here.' },
    }),
    definePath({
      pattern: 'rekey/backup',
      fields: {},
      operations: {
        read: {
          summary: 'Read the backup of the PGP-encrypted key shares.',
          handler: async () => {
            const backup = await rekey.readBackup();
            if (!backup) throw badRequest('no backed-up keys found');
            return { data: { ...backup } };
          },
        },
        delete: {
          summary: 'Delete the backup of the key shares.',
          handler: async () => {
            await rekey.deleteBackup();
            return null;
          },
        },
      },
      help: { synopsis: 'The backup of the PGP-encrypted shares of the last rekey.', description: 'Written by a rekey with backup=true. Requires sudo.' },
    }),
  ];
}
