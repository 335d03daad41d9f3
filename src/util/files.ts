import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Write a file whole or not at all, mode 0600: a scratch file beside it is written and synced,
 * renamed over the path, and the directory synced, so a crash leaves the old file or the new one.
 */
export function writeFileWhole(path: string, data: Uint8Array): void {
  const scratch = `${path}.${process.pid}.part`;
  const fd = openSync(scratch, 'wx', 0o600);
  try {
    for (let at = 0; at < data.length; ) at += writeSync(fd, data, at);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(scratch, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(scratch, path);
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
