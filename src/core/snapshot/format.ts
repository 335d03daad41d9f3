import { createHash, timingSafeEqual } from 'node:crypto';
import { badRequest } from '../../logical/index.js';
import type { StorageEntry } from '../../storage/index.js';

/**
 * coffer's snapshot file: every storage entry as it is stored (ciphertext, and the seal's own
 * records), so a snapshot is as safe to keep as the storage file itself.
 *
 *     "COFFER-SNAPSHOT\n"                      16 bytes
 *     u32 length, JSON header                  format, created, version, storage_type
 *     per entry: u32 key length, key (UTF-8), u32 value length, value
 *     u32 0xFFFFFFFF, u32 entry count          the end marker
 *     SHA-256 of every byte before it          32 bytes
 *
 * Integers are big-endian. Nothing may follow the checksum: a file cut anywhere, or changed in
 * any byte, is refused before anything is restored.
 */
const MAGIC = Buffer.from('COFFER-SNAPSHOT\n');
const END = 0xffffffff;
const HASH_BYTES = 32;

export interface SnapshotHeader {
  readonly format: 1;
  readonly created: string;
  readonly version: string;
  readonly storage_type: string;
}

const u32 = (n: number): Buffer => {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n);
  return b;
};

/** Write the entries (in the order given) as one snapshot file. */
export async function encodeSnapshot(header: SnapshotHeader, entries: AsyncIterable<StorageEntry>): Promise<Buffer> {
  const hash = createHash('sha256');
  const parts: Buffer[] = [];
  const add = (b: Buffer) => {
    hash.update(b);
    parts.push(b);
  };
  const head = Buffer.from(JSON.stringify(header));
  add(MAGIC);
  add(u32(head.length));
  add(head);
  let count = 0;
  for await (const [key, value] of entries) {
    const k = Buffer.from(key);
    add(u32(k.length));
    add(k);
    add(u32(value.byteLength));
    add(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    count++;
  }
  add(u32(END));
  add(u32(count));
  parts.push(hash.digest());
  return Buffer.concat(parts);
}

/** Read and check a snapshot file: every entry, or a 400 naming what is wrong with it. */
export function decodeSnapshot(file: Uint8Array): { header: SnapshotHeader; entries: StorageEntry[] } {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw badRequest('not a coffer snapshot: the file does not start with a snapshot header');
  if (buf.length < MAGIC.length + 4 + 8 + HASH_BYTES) throw badRequest('the snapshot is truncated');
  const body = buf.subarray(0, buf.length - HASH_BYTES);
  const sum = createHash('sha256').update(body).digest();
  if (!timingSafeEqual(sum, buf.subarray(buf.length - HASH_BYTES))) throw badRequest('the snapshot is corrupted or truncated: its checksum does not match its content');
  let at = MAGIC.length;
  const take = (n: number): Buffer => {
    if (at + n > body.length) throw badRequest('the snapshot is malformed: a record runs past its end');
    const out = body.subarray(at, at + n);
    at += n;
    return out;
  };
  const headLength = take(4).readUInt32BE();
  let header: SnapshotHeader;
  try {
    header = JSON.parse(take(headLength).toString('utf8')) as SnapshotHeader;
  } catch {
    throw badRequest('the snapshot is malformed: its header is not JSON');
  }
  if (header.format !== 1) throw badRequest(`the snapshot is in format ${String(header.format)}, which this server does not read`);
  const entries: StorageEntry[] = [];
  const seen = new Set<string>();
  for (;;) {
    const keyLength = take(4).readUInt32BE();
    if (keyLength === END) break;
    const key = take(keyLength).toString('utf8');
    if (seen.has(key)) throw badRequest('the snapshot is malformed: a key appears twice');
    seen.add(key);
    const value = take(take(4).readUInt32BE());
    entries.push([key, value]);
  }
  if (take(4).readUInt32BE() !== entries.length) throw badRequest('the snapshot is malformed: its entry count does not match');
  if (at !== body.length) throw badRequest('the snapshot is malformed: bytes follow its last record');
  return { header, entries };
}
