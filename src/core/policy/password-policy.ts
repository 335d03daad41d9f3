import { randomInt } from 'node:crypto';
import { HclSyntaxError, parseHcl, type HclValue } from '../../hcl/index.js';
import { badRequest, getJSON, putJSON, type StorageView } from '../../logical/index.js';

/** A parsed password policy: a length and charset rules, each with a minimum count. */
export interface PasswordPolicy {
  readonly length: number;
  readonly rules: readonly { readonly charset: string; readonly minChars: number }[];
}

/** Vault's default for generated database passwords: 20 characters, at least one of each class. */
export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = {
  length: 20,
  rules: [
    { charset: 'abcdefghijklmnopqrstuvwxyz', minChars: 1 },
    { charset: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', minChars: 1 },
    { charset: '0123456789', minChars: 1 },
    { charset: '-', minChars: 1 },
  ],
};

const MIN_LENGTH = 4;
const MAX_LENGTH = 100;

/** The rule blocks of a policy: `rule "charset" { … }` in HCL, or a list of them in JSON. */
function ruleBodies(v: HclValue): HclValue[] {
  if (v.kind === 'list') return v.items.flatMap(ruleBodies);
  if (v.kind !== 'object') throw badRequest('policy: "rule" must be a block');
  return v.items.map((item) => {
    if (item.key !== 'charset') throw badRequest('policy: only "charset" rules are supported');
    return item.value;
  });
}

function ruleFrom(body: HclValue): { charset: string; minChars: number } {
  const bodies = body.kind === 'list' ? body.items : [body];
  let charset = '';
  let minChars = 0;
  for (const b of bodies) {
    if (b.kind !== 'object') throw badRequest('policy: a charset rule must be a block');
    for (const item of b.items) {
      if (item.key === 'charset' && item.value.kind === 'string') charset = item.value.value;
      else if (item.key === 'min-chars' && item.value.kind === 'number') minChars = item.value.value;
      else throw badRequest(`policy: unknown or mistyped field "${item.key}" in a charset rule (line ${item.line})`);
    }
  }
  if (charset === '') throw badRequest('policy: a charset rule needs a non-empty charset');
  if (!Number.isSafeInteger(minChars) || minChars < 0) throw badRequest('policy: min-chars must be a non-negative integer');
  return { charset: [...new Set(charset)].join(''), minChars };
}

/** Parse a policy's HCL (or JSON); a 400 that names what is wrong, never the policy text. */
export function parsePasswordPolicy(text: string): PasswordPolicy {
  let root;
  try {
    root = parseHcl(text);
  } catch (e) {
    if (e instanceof HclSyntaxError) throw badRequest(`policy: ${e.message}`);
    throw e;
  }
  let length = 0;
  const rules: { charset: string; minChars: number }[] = [];
  for (const item of root.items) {
    if (item.key === 'length' && item.value.kind === 'number') length = item.value.value;
    else if (item.key === 'rule') rules.push(...ruleBodies(item.value).map(ruleFrom));
    else throw badRequest(`policy: unknown or mistyped field "${item.key}" (line ${item.line})`);
  }
  if (!Number.isSafeInteger(length) || length < MIN_LENGTH || length > MAX_LENGTH) throw badRequest(`policy: length must be between ${MIN_LENGTH} and ${MAX_LENGTH}`);
  if (rules.length === 0) throw badRequest('policy: at least one charset rule is required');
  const needed = rules.reduce((n, r) => n + r.minChars, 0);
  if (needed > length) throw badRequest(`policy: the rules' min-chars add up to ${needed}, more than the length ${length}`);
  return { length, rules };
}

/**
 * A password under the policy: every character drawn uniformly (crypto.randomInt) from the
 * union of the charsets, and whole passwords drawn again until each rule's minimum holds.
 */
export function generatePassword(policy: PasswordPolicy): string {
  const alphabet = [...new Set(policy.rules.map((r) => r.charset).join(''))];
  for (let attempt = 0; attempt < 10_000; attempt++) {
    let pw = '';
    for (let i = 0; i < policy.length; i++) pw += alphabet[randomInt(alphabet.length)];
    if (policy.rules.every((r) => [...pw].filter((c) => r.charset.includes(c)).length >= r.minChars)) return pw;
  }
  throw badRequest('unable to generate a password that satisfies the policy');
}

interface StoredPolicy {
  readonly policy: string;
}

/** Password policies by name, stored under sys/password-policy/ and parsed once per write. */
export class PasswordPolicyStore {
  readonly #view: StorageView;
  readonly #parsed = new Map<string, PasswordPolicy>();

  constructor(view: StorageView) {
    this.#view = view;
  }

  async set(name: string, text: string): Promise<void> {
    const policy = parsePasswordPolicy(text);
    // Prove it can generate before it is kept.
    generatePassword(policy);
    await putJSON(this.#view, name, { policy: text } satisfies StoredPolicy);
    this.#parsed.set(name, policy);
  }

  async getText(name: string): Promise<string | null> {
    return (await getJSON<StoredPolicy>(this.#view, name))?.policy ?? null;
  }

  async get(name: string): Promise<PasswordPolicy | null> {
    const known = this.#parsed.get(name);
    if (known) return known;
    const text = await this.getText(name);
    if (text === null) return null;
    const policy = parsePasswordPolicy(text);
    this.#parsed.set(name, policy);
    return policy;
  }

  async delete(name: string): Promise<void> {
    await this.#view.delete(name);
    this.#parsed.delete(name);
  }

  async list(): Promise<string[]> {
    return this.#view.list('');
  }

  /** A password under the named policy ("" for the default one). */
  async generate(name: string): Promise<string> {
    if (name === '') return generatePassword(DEFAULT_PASSWORD_POLICY);
    const policy = await this.get(name);
    if (!policy) throw badRequest(`password policy "${name}" does not exist`);
    return generatePassword(policy);
  }

  reset(): void {
    this.#parsed.clear();
  }
}
