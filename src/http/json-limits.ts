/** Vault's listener limits on request JSON, with Vault's defaults. */
export interface JsonLimits {
  readonly maxDepth: number;
  readonly maxStringLength: number;
  readonly maxObjectEntries: number;
  readonly maxArrayElements: number;
}

export const DEFAULT_JSON_LIMITS: JsonLimits = {
  maxDepth: 500,
  maxStringLength: 1_048_576,
  maxObjectEntries: 10_000,
  maxArrayElements: 10_000,
};

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJ = 0x7b;
const CLOSE_OBJ = 0x7d;
const OPEN_ARR = 0x5b;
const CLOSE_ARR = 0x5d;
const COMMA = 0x2c;

/**
 * One linear pass over the raw bytes, before JSON.parse allocates anything: returns the first
 * limit exceeded (or an integer JSON.parse cannot hold exactly), or null. It does not validate syntax (JSON.parse does that next); on invalid
 * input it may miscount, but only ever within the bytes it was given.
 */
export function checkJsonLimits(body: Uint8Array, limits: JsonLimits): string | null {
  // counts[d] = separators seen in the container at depth d; kinds[d] = 1 object, 2 array.
  const counts: number[] = [];
  const kinds: number[] = [];
  let depth = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === QUOTE) {
      const start = i;
      for (i++; i < body.length && body[i] !== QUOTE; i++) if (body[i] === BACKSLASH) i++;
      if (i - start - 1 > limits.maxStringLength) return `JSON string value exceeds the maximum length of ${limits.maxStringLength}`;
    } else if (c === OPEN_OBJ || c === OPEN_ARR) {
      depth++;
      if (depth > limits.maxDepth) return `JSON input exceeds the maximum nesting depth of ${limits.maxDepth}`;
      counts[depth] = 0;
      kinds[depth] = c === OPEN_OBJ ? 1 : 2;
    } else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
      if (depth > 0) depth--;
    } else if ((c !== undefined && c >= 0x30 && c <= 0x39) || c === 0x2d) {
      // A number: JSON.parse would silently round an integer beyond 2^53, corrupting the value.
      const start = i;
      while (i + 1 < body.length && isNumberByte(body[i + 1]!)) i++;
      const literal = Buffer.from(body.buffer, body.byteOffset + start, i - start + 1).toString('latin1');
      if (/^-?\d{16,}$/.test(literal) && !Number.isSafeInteger(Number(literal))) {
        return 'an integer in the body is too large to store exactly; send it as a string';
      }
    } else if (c === COMMA && depth > 0) {
      const n = (counts[depth] = (counts[depth] ?? 0) + 1) + 1;
      if (kinds[depth] === 1 && n > limits.maxObjectEntries) return `JSON object exceeds the maximum of ${limits.maxObjectEntries} entries`;
      if (kinds[depth] === 2 && n > limits.maxArrayElements) return `JSON array exceeds the maximum of ${limits.maxArrayElements} elements`;
    }
  }
  return null;
}

function isNumberByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || b === 0x2e || b === 0x65 || b === 0x45 || b === 0x2b || b === 0x2d;
}
