/**
 * Root tokens made by generate-root, and the one-time passwords (OTPs) they travel under, as
 * Vault makes them: "hvs." and 24 base62 characters, XORed with an OTP of the same length and
 * base64-encoded without padding. The server encodes; the CLI's `generate-root -decode` decodes.
 */
export const ROOT_TOKEN_BODY = 24;
/** An OTP is as long as the token it encodes (Vault: TokenLength + TokenPrefixLength). */
export const OTP_LENGTH = 'hvs.'.length + ROOT_TOKEN_BODY;

/** XOR a token with its OTP (equal lengths) and base64 it without padding. */
export function encodeWithOtp(token: string, otp: string): string {
  const t = Buffer.from(token);
  const o = Buffer.from(otp);
  if (t.length !== o.length) throw new Error('the OTP and the token differ in length');
  return Buffer.from(t.map((b, i) => b ^ o[i]!)).toString('base64').replace(/=+$/, '');
}

/** The token an encoded token and its OTP give; throws when their lengths differ. */
export function decodeWithOtp(encoded: string, otp: string): string {
  const t = Buffer.from(encoded, 'base64');
  const o = Buffer.from(otp);
  if (t.length !== o.length) throw new Error('the OTP does not match the encoded token: their lengths differ');
  return Buffer.from(t.map((b, i) => b ^ o[i]!)).toString();
}
