import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decrypt, generateKey, readMessage, readPrivateKey, type PrivateKey } from 'openpgp';
import { InmemStorage } from '../storage/index.js';
import { decodeWithOtp, OTP_LENGTH } from '../util/index.js';
import { newTestCore, newUninitializedCore, type TestCore } from './testing.js';

type Body = Record<string, unknown>;
const hex = (k: Uint8Array) => Buffer.from(k).toString('hex');

/** An OpenPGP key pair for one share holder: the public half as the API takes it, base64 binary. */
async function holder(name: string): Promise<{ publicKey: string; privateKey: PrivateKey }> {
  const { publicKey, privateKey } = await generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name, email: `${name}@example.test` }], format: 'binary' });
  return { publicKey: Buffer.from(publicKey).toString('base64'), privateKey: await readPrivateKey({ binaryKey: privateKey }) };
}

async function decryptTo(privateKey: PrivateKey, ciphertext: Buffer): Promise<string> {
  const { data } = await decrypt({ message: await readMessage({ binaryMessage: ciphertext }), decryptionKeys: privateKey, format: 'binary' });
  return Buffer.from(data).toString();
}

async function raw(t: TestCore, operation: 'read' | 'update' | 'delete', path: string, data: Body = {}, token = ''): Promise<Body> {
  return (await t.request(operation, path, data, token))?.raw as Body;
}

async function rejects(p: Promise<unknown>, pattern: RegExp, message?: string): Promise<void> {
  await assert.rejects(p, (e: Error) => pattern.test(e.message), message);
}

async function isRoot(t: TestCore, token: string): Promise<boolean> {
  const self = await t.request('read', 'auth/token/lookup-self', {}, token);
  return JSON.stringify(self?.data?.['policies']) === '["root"]';
}

describe('root token generation', () => {
  it('mints a root token from a quorum of shares, answered XORed with the OTP the server made', async () => {
    const t = await newTestCore({ shares: 5, threshold: 3 });
    const idle = await raw(t, 'read', 'sys/generate-root/attempt');
    assert.deepEqual(idle, { started: false, nonce: '', progress: 0, required: 3, complete: false, encoded_token: '', encoded_root_token: '', pgp_fingerprint: '', otp: '', otp_length: OTP_LENGTH });
    const started = await raw(t, 'update', 'sys/generate-root/attempt');
    const otp = String(started['otp']);
    assert.match(otp, /^[A-Za-z0-9]{28}$/);
    assert.equal(started['started'], true);
    const nonce = String(started['nonce']);
    assert.equal((await raw(t, 'read', 'sys/generate-root/attempt'))['otp'], '', 'the OTP is answered once, to the start');
    await rejects(raw(t, 'update', 'sys/generate-root/attempt'), /root generation already in progress/);

    await rejects(raw(t, 'update', 'sys/generate-root/update', { key: hex(t.keys[0]!), nonce: 'not-the-nonce' }), /incorrect nonce/);
    const first = await raw(t, 'update', 'sys/generate-root/update', { key: hex(t.keys[0]!), nonce });
    assert.equal(first['progress'], 1);
    assert.equal(first['complete'], false);
    await rejects(raw(t, 'update', 'sys/generate-root/update', { key: Buffer.from(t.keys[0]!).toString('base64'), nonce }), /already been provided/);
    await rejects(raw(t, 'update', 'sys/generate-root/update', { key: 'abcd', nonce }), /invalid key share/);
    await raw(t, 'update', 'sys/generate-root/update', { key: hex(t.keys[1]!), nonce });
    const done = await raw(t, 'update', 'sys/generate-root/update', { key: hex(t.keys[4]!), nonce });
    assert.equal(done['complete'], true);
    assert.equal(done['encoded_token'], done['encoded_root_token']);
    const token = decodeWithOtp(String(done['encoded_token']), otp);
    assert.match(token, /^hvs\.[A-Za-z0-9]{24}$/);
    assert.ok(await isRoot(t, token), 'the decoded token is a root token');
    assert.equal((await raw(t, 'read', 'sys/generate-root/attempt'))['started'], false, 'the attempt is over');

    // Mistake 2 of the article: with the new root token, the original is revoked.
    await t.request('update', 'auth/token/revoke', { token: t.rootToken }, token);
    await rejects(t.request('read', 'auth/token/lookup-self'), /permission denied/);
    assert.ok(await isRoot(t, token));
  });

  it('takes an OTP of the right length from the caller, and refuses one of another', async () => {
    const t = await newTestCore();
    await rejects(raw(t, 'update', 'sys/generate-root/attempt', { otp: 'short' }), /OTP string is wrong length/);
    const otp = 'A'.repeat(OTP_LENGTH);
    const started = await raw(t, 'update', 'sys/generate-root/attempt', { otp });
    assert.equal(started['otp'], '', 'a caller\'s own OTP is not answered back');
    const done = await raw(t, 'update', 'sys/generate-root/update', { key: Buffer.from(t.keys[0]!).toString('base64'), nonce: started['nonce'] });
    assert.ok(await isRoot(t, decodeWithOtp(String(done['encoded_token']), otp)));
  });

  it('encrypts the new token to a PGP key instead', async () => {
    const t = await newTestCore();
    const me = await holder('operator');
    const started = await raw(t, 'update', 'sys/generate-root/attempt', { pgp_key: me.publicKey });
    assert.match(String(started['pgp_fingerprint']), /^[0-9a-f]{40}$/);
    assert.equal(started['otp'], '');
    const done = await raw(t, 'update', 'sys/generate-root/update', { key: hex(t.keys[0]!), nonce: started['nonce'] });
    assert.equal(done['pgp_fingerprint'], started['pgp_fingerprint']);
    const token = await decryptTo(me.privateKey, Buffer.from(String(done['encoded_token']), 'base64'));
    assert.ok(await isRoot(t, token));
    await rejects(raw(t, 'update', 'sys/generate-root/attempt', { pgp_key: 'bm90IGEga2V5' }), /pgp_key: not a base64-encoded OpenPGP public key/);
  });

  it('resets the progress, keeping the attempt, when the shares are not this server\'s', async () => {
    const t = await newTestCore({ shares: 3, threshold: 2 });
    const other = await newTestCore({ shares: 3, threshold: 2 });
    const { nonce } = await raw(t, 'update', 'sys/generate-root/attempt');
    await raw(t, 'update', 'sys/generate-root/update', { key: hex(t.keys[0]!), nonce });
    await rejects(raw(t, 'update', 'sys/generate-root/update', { key: hex(other.keys[1]!), nonce }), /do not reconstruct the unseal key/);
    const after = await raw(t, 'read', 'sys/generate-root/attempt');
    assert.equal(after['started'], true);
    assert.equal(after['progress'], 0);
    assert.equal(after['nonce'], nonce);
  });

  it('is cancelled only with a token that has sudo on the path, and ends when the server seals', async () => {
    const t = await newTestCore();
    const { nonce } = await raw(t, 'update', 'sys/generate-root/attempt');
    await rejects(raw(t, 'delete', 'sys/generate-root/attempt'), /permission denied/);
    await t.request('update', 'sys/policy/no-sudo', { policy: 'path "sys/generate-root/attempt" { capabilities = ["delete"] }' });
    const plain = (await t.request('update', 'auth/token/create', { policies: ['no-sudo'] }))!.auth!.clientToken;
    await rejects(raw(t, 'delete', 'sys/generate-root/attempt', {}, plain), /permission denied/);
    assert.equal((await raw(t, 'read', 'sys/generate-root/attempt'))['nonce'], nonce, 'the attempt survives both');
    assert.equal(await t.request('delete', 'sys/generate-root/attempt'), null);
    assert.equal((await raw(t, 'read', 'sys/generate-root/attempt'))['started'], false);

    await raw(t, 'update', 'sys/generate-root/attempt');
    await t.core.seal();
    await t.core.unseal(t.keys[0]!);
    assert.equal((await raw(t, 'read', 'sys/generate-root/attempt'))['started'], false);
  });
});

describe('rekey', () => {
  it('replaces the shares (5 of 3 becomes 3 of 2); the old shares stop unsealing and every value still reads', async () => {
    const t = await newTestCore({ shares: 5, threshold: 3 });
    await t.request('update', 'secret/data/app', { data: { pw: 'kept' } });
    assert.equal((await raw(t, 'read', 'sys/rekey/init'))['started'], false);
    const started = await raw(t, 'update', 'sys/rekey/init', { secret_shares: 3, secret_threshold: '2' });
    assert.deepEqual({ ...started, nonce: '' }, { started: true, nonce: '', t: 2, n: 3, progress: 0, required: 3, pgp_fingerprints: null, backup: false, verification_required: false });
    const nonce = started['nonce'];
    await rejects(raw(t, 'update', 'sys/rekey/init', { secret_shares: 3, secret_threshold: 2 }), /rekey already in progress/);
    await raw(t, 'update', 'sys/rekey/update', { key: hex(t.keys[0]!), nonce });
    assert.equal((await raw(t, 'update', 'sys/rekey/update', { key: hex(t.keys[2]!), nonce }))['progress'], 2);
    const done = await raw(t, 'update', 'sys/rekey/update', { key: hex(t.keys[3]!), nonce });
    assert.equal(done['complete'], true);
    const fresh = (done['keys'] as string[]).map((k) => Buffer.from(k, 'hex'));
    assert.equal(fresh.length, 3);
    assert.deepEqual((done['keys_base64'] as string[]).map((k) => Buffer.from(k, 'base64').toString('hex')), done['keys']);
    const status = await t.core.status();
    assert.deepEqual([status.n, status.t], [3, 2]);

    await t.core.seal();
    await t.core.unseal(t.keys[0]!);
    await rejects(t.core.unseal(t.keys[1]!), /do not reconstruct/, 'two old shares now make a (wrong) quorum');
    await t.core.unseal(fresh[2]!);
    assert.equal((await t.core.unseal(fresh[0]!)).sealed, false);
    assert.equal(((await t.request('read', 'secret/data/app'))!.data!['data'] as Body)['pw'], 'kept');
  });

  it('refuses bad parameters by name, and a share under another nonce', async () => {
    const t = await newTestCore({ shares: 3, threshold: 2 });
    await rejects(raw(t, 'update', 'sys/rekey/init', { secret_shares: 0, secret_threshold: 1 }), /secret_shares must be between 1 and 255/);
    await rejects(raw(t, 'update', 'sys/rekey/init', { secret_shares: 3, secret_threshold: 4 }), /secret_threshold must be between/);
    await rejects(raw(t, 'update', 'sys/rekey/init', { secret_shares: 3, secret_threshold: 1 }), /threshold must be greater than one/);
    await rejects(raw(t, 'update', 'sys/rekey/init', { secret_shares: 'many', secret_threshold: 1 }), /secret_shares/);
    await rejects(raw(t, 'update', 'sys/rekey/init', { secret_shares: 2, secret_threshold: 2, backup: true }), /without providing PGP keys/);
    await rejects(raw(t, 'update', 'sys/rekey/init', { secret_shares: 2, secret_threshold: 2, pgp_keys: [(await holder('a')).publicKey] }), /incorrect number of PGP keys/);
    await rejects(raw(t, 'update', 'sys/rekey/update', { key: hex(t.keys[0]!), nonce: 'x' }), /no barrier rekey in progress/);
    const { nonce } = await raw(t, 'update', 'sys/rekey/init', { secret_shares: 1, secret_threshold: 1 });
    await rejects(raw(t, 'update', 'sys/rekey/update', { key: hex(t.keys[0]!), nonce: 'other' }), /incorrect nonce supplied/);
    await rejects(raw(t, 'update', 'sys/rekey/update', { nonce }), /'key' must be specified/);
    await rejects(raw(t, 'delete', 'sys/rekey/init'), /permission denied/);
    assert.equal((await raw(t, 'read', 'sys/rekey/init'))['nonce'], nonce, 'an unauthenticated cancel changes nothing');
    assert.equal(await t.request('delete', 'sys/rekey/init'), null);
    assert.equal((await raw(t, 'read', 'sys/rekey/init'))['started'], false);
  });

  it('hands each new share out encrypted to its holder\'s PGP key, and keeps a backup for sudo', async () => {
    const t = await newTestCore({ shares: 3, threshold: 2 });
    const holders = await Promise.all(['ann', 'bob', 'cy'].map(holder));
    const started = await raw(t, 'update', 'sys/rekey/init', { secret_shares: 3, secret_threshold: 2, pgp_keys: holders.map((h) => h.publicKey), backup: true });
    const fingerprints = started['pgp_fingerprints'] as string[];
    assert.equal(fingerprints.length, 3);
    await raw(t, 'update', 'sys/rekey/update', { key: hex(t.keys[0]!), nonce: started['nonce'] });
    const done = await raw(t, 'update', 'sys/rekey/update', { key: hex(t.keys[1]!), nonce: started['nonce'] });
    assert.deepEqual(done['pgp_fingerprints'], fingerprints);
    assert.equal(done['backup'], true);
    const shares = await Promise.all((done['keys_base64'] as string[]).map((k, i) => decryptTo(holders[i]!.privateKey, Buffer.from(k, 'base64'))));
    for (const s of shares) assert.match(s, /^[0-9a-f]{66}$/, 'each holder decrypts a hex share');

    const backup = (await t.request('read', 'sys/rekey/backup'))!.data!;
    assert.equal(backup['nonce'], started['nonce']);
    assert.deepEqual(Object.keys(backup['keys'] as Body).sort(), [...fingerprints].sort());
    assert.deepEqual((backup['keys'] as Record<string, string[]>)[fingerprints[1]!], [(done['keys'] as string[])[1]]);
    await t.request('update', 'sys/policy/reader', { policy: 'path "sys/rekey/backup" { capabilities = ["read"] }' });
    const reader = (await t.request('update', 'auth/token/create', { policies: ['reader'] }))!.auth!.clientToken;
    await rejects(t.request('read', 'sys/rekey/backup', {}, reader), /permission denied/);

    await t.core.seal();
    await t.core.unseal(Buffer.from(shares[2]!, 'hex'));
    assert.equal((await t.core.unseal(Buffer.from(shares[0]!, 'hex'))).sealed, false);
    assert.equal(await t.request('delete', 'sys/rekey/backup'), null);
    await rejects(t.request('read', 'sys/rekey/backup'), /no backed-up keys found/);
  });

  it('with verification, keeps the old shares in force until a threshold of the new ones is entered', async () => {
    const storage = new InmemStorage();
    const t = await newTestCore({ storage, shares: 3, threshold: 2 });
    const { nonce } = await raw(t, 'update', 'sys/rekey/init', { secret_shares: 2, secret_threshold: 2, require_verification: true });
    await raw(t, 'update', 'sys/rekey/update', { key: hex(t.keys[0]!), nonce });
    const done = await raw(t, 'update', 'sys/rekey/update', { key: hex(t.keys[1]!), nonce });
    assert.equal(done['verification_required'], true);
    const vnonce = String(done['verification_nonce']);
    const fresh = (done['keys'] as string[]).map((k) => Buffer.from(k, 'hex'));
    await rejects(raw(t, 'update', 'sys/rekey/update', { key: hex(t.keys[2]!), nonce }), /verification must be performed/);
    assert.deepEqual(await raw(t, 'read', 'sys/rekey/verify'), { started: true, nonce: vnonce, t: 2, n: 2, progress: 0 });
    assert.equal((await t.core.status()).n, 3, 'the old seal is still in force');

    // Old shares at the verify step are refused and reset its progress.
    await raw(t, 'update', 'sys/rekey/verify', { key: hex(t.keys[0]!), nonce: vnonce });
    await rejects(raw(t, 'update', 'sys/rekey/verify', { key: hex(t.keys[1]!), nonce: vnonce }), /do not reconstruct the new unseal key/);
    const restarted = await t.request('delete', 'sys/rekey/verify');
    const vnonce2 = String((restarted!.raw as Body)['nonce']);
    assert.notEqual(vnonce2, vnonce, 'starting over changes the verification nonce');
    await raw(t, 'update', 'sys/rekey/verify', { key: hex(fresh[0]!), nonce: vnonce2 });
    assert.deepEqual(await raw(t, 'update', 'sys/rekey/verify', { key: hex(fresh[1]!), nonce: vnonce2 }), { nonce: vnonce2, complete: true });
    assert.equal((await t.core.status()).n, 2);
    await t.core.seal();
    await t.core.unseal(fresh[1]!);
    assert.equal((await t.core.unseal(fresh[0]!)).sealed, false);
  });

  it('cancelled during verification, leaves the old shares in force', async () => {
    const t = await newTestCore({ shares: 3, threshold: 2 });
    const { nonce } = await raw(t, 'update', 'sys/rekey/init', { secret_shares: 1, secret_threshold: 1, require_verification: true });
    await raw(t, 'update', 'sys/rekey/update', { key: hex(t.keys[0]!), nonce });
    await raw(t, 'update', 'sys/rekey/update', { key: hex(t.keys[1]!), nonce });
    await t.request('delete', 'sys/rekey/init');
    assert.equal((await raw(t, 'read', 'sys/rekey/verify'))['started'], false);
    await t.core.seal();
    await t.core.unseal(t.keys[2]!);
    assert.equal((await t.core.unseal(t.keys[0]!)).sealed, false);
  });
});

describe('init with PGP keys', () => {
  it('answers each share encrypted to its holder and the root token encrypted to its key', async () => {
    const holders = await Promise.all(['ann', 'bob', 'cy'].map(holder));
    const admin = await holder('admin');
    const core = newUninitializedCore();
    const init = async (data: Body) => (await core.handle({ operation: 'update', path: 'sys/init', data, token: '' })).response?.raw as Body;
    await rejects(init({ secret_shares: 3, secret_threshold: 2, pgp_keys: holders.slice(0, 2).map((h) => h.publicKey) }), /incorrect number of PGP keys/);
    await rejects(init({ secret_shares: 3, secret_threshold: 2, pgp_keys: [holders[0]!.publicKey, 'AAAA', holders[2]!.publicKey] }), /pgp_keys\[1\]: not a base64-encoded OpenPGP public key/);
    const armored = (await generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'priv' }] })).privateKey;
    await rejects(init({ secret_shares: 1, secret_threshold: 1, root_token_pgp_key: armored }), /a private key was given/);
    assert.equal((await core.status()).initialized, false, 'nothing is made when a key is refused');

    const res = await init({ secret_shares: 3, secret_threshold: 2, pgp_keys: holders.map((h) => h.publicKey), root_token_pgp_key: admin.publicKey });
    const shares = await Promise.all((res['keys_base64'] as string[]).map((k, i) => decryptTo(holders[i]!.privateKey, Buffer.from(k, 'base64'))));
    const rootToken = await decryptTo(admin.privateKey, Buffer.from(String(res['root_token']), 'base64'));
    await core.unseal(Buffer.from(shares[1]!, 'hex'));
    assert.equal((await core.unseal(Buffer.from(shares[2]!, 'hex'))).sealed, false);
    const self = (await core.handle({ operation: 'read', path: 'auth/token/lookup-self', data: {}, token: rootToken })).response;
    assert.deepEqual(self?.data?.['policies'], ['root']);
  });
});
