import { BlockList, isIP } from 'node:net';

/** A CIDR block or single address that did not parse; its index, never its text, is reported. */
export class CidrError extends Error {
  override readonly name = 'CidrError';
}

interface Block {
  readonly address: string;
  readonly type: 'ipv4' | 'ipv6';
  readonly bits: number;
}

function parseBlock(raw: string, i: number): Block {
  const text = raw.trim();
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const family = isIP(address);
  if (family === 0) throw new CidrError(`entry ${i + 1} is not an IP address or CIDR block`);
  const max = family === 4 ? 32 : 128;
  const bitsText = slash === -1 ? String(max) : text.slice(slash + 1);
  const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : -1;
  if (bits < 0 || bits > max) throw new CidrError(`entry ${i + 1} has an invalid prefix length`);
  return { address, type: family === 4 ? 'ipv4' : 'ipv6', bits };
}

/**
 * A set of CIDR blocks ("10.0.0.0/8", "2001:db8::/32") and single addresses, compiled once (at
 * a role's write, a token's first use) and asked per request. Addresses are matched as the
 * server saw them, IPv4-mapped IPv6 unwrapped (see clientAddress).
 */
export class CidrSet {
  readonly #blocks: readonly Block[];
  readonly #list = new BlockList();
  /** The blocks as given, trimmed, in order. */
  readonly blocks: readonly string[];

  constructor(blocks: readonly string[]) {
    this.#blocks = blocks.map(parseBlock);
    for (const b of this.#blocks) this.#list.addSubnet(b.address, b.bits, b.type);
    this.blocks = blocks.map((b) => b.trim());
  }

  get empty(): boolean {
    return this.#blocks.length === 0;
  }

  /** True if address is inside one of the blocks. An empty set admits every address. */
  admits(address: string): boolean {
    if (this.#blocks.length === 0) return true;
    const family = isIP(address);
    if (family === 0) return false;
    return this.#list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }

  /** True if every block of `inner` lies inside one block of this set (a secret-id's CIDRs within its role's). */
  covers(inner: CidrSet): boolean {
    if (this.#blocks.length === 0) return true;
    return inner.#blocks.every((b) =>
      this.#blocks.some((outer) => {
        if (outer.type !== b.type || outer.bits > b.bits) return false;
        const one = new BlockList();
        one.addSubnet(outer.address, outer.bits, outer.type);
        return one.check(b.address, b.type);
      }),
    );
  }
}

/** True if address is inside one of blocks (an empty list admits all), without keeping a set. */
export function cidrsAdmit(blocks: readonly string[], address: string): boolean {
  return blocks.length === 0 || new CidrSet(blocks).admits(address);
}

/** The address a socket reports, IPv4-mapped IPv6 unwrapped ("::ffff:10.0.0.1" → "10.0.0.1"). */
export function clientAddress(raw: string | undefined): string {
  if (!raw) return '';
  return raw.startsWith('::ffff:') && isIP(raw.slice(7)) === 4 ? raw.slice(7) : raw;
}
