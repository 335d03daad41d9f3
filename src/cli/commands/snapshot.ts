import { readFileSync } from 'node:fs';
import { writeFileWhole } from '../../util/index.js';
import { flagBool, UsageError, type ParsedArgs } from '../args.js';
import { clientFrom, defineCommand, HTTP_FLAGS, type Command, type Io } from '../command.js';

const MiB = 1024 * 1024;
const size = (bytes: number): string => (bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`);

/** Progress on standard error, at most a line a second, and the total at the end. */
function progressReporter(io: Io, verb: string): { tick(bytes: number): void; done(bytes: number, what: string): void } {
  let last = Date.now();
  return {
    tick(bytes) {
      const now = Date.now();
      if (now - last < 1000) return;
      last = now;
      io.err(`${verb} ${size(bytes)}...`);
    },
    done(bytes, what) {
      io.err(`${verb} ${size(bytes)}: ${what}`);
    },
  };
}

function oneFile(p: ParsedArgs): string {
  if (p.args.length !== 1) throw new UsageError(`expected one argument, the snapshot file; got ${p.args.length}`);
  return p.args[0]!;
}

function saveCommand(name: string): Command {
  return defineCommand({
    name,
    synopsis: 'Save a snapshot of all storage to a file',
    usage: `Usage: coffer ${name} [options] FILE

  Save a consistent snapshot of all storage to FILE while the server keeps serving. The snapshot
  is encrypted as storage is (it unseals only with the key shares) and checksummed; the file is
  written whole, mode 0600, or not at all. Needs sudo on sys/storage/raft/snapshot.`,
    flags: [...HTTP_FLAGS],
    async run(p, io) {
      const file = oneFile(p);
      const progress = progressReporter(io, 'Saved');
      const data = await clientFrom(p).transfer('GET', 'sys/storage/raft/snapshot', undefined, (n) => progress.tick(n));
      writeFileWhole(file, data);
      progress.done(data.length, `snapshot written to ${file}`);
      return 0;
    },
  });
}

function restoreCommand(name: string): Command {
  return defineCommand({
    name,
    synopsis: 'Restore a snapshot of all storage from a file',
    usage: `Usage: coffer ${name} [options] FILE

  Replace all storage with the snapshot in FILE. The server checks the whole file first: a
  corrupted or truncated one is refused and nothing changes. Without -force the snapshot must be
  of this server; with -force one of another server is restored too, and the server seals, to be
  unsealed with that server's key shares. Needs sudo.`,
    flags: [...HTTP_FLAGS, { name: 'force', kind: 'bool', usage: 'Restore a snapshot of another server (snapshot-force).' }],
    async run(p, io) {
      const file = oneFile(p);
      let data: Buffer;
      try {
        data = readFileSync(file);
      } catch (e) {
        throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
      const client = clientFrom(p);
      const progress = progressReporter(io, 'Uploaded');
      await client.transfer('POST', flagBool(p, 'force') ? 'sys/storage/raft/snapshot-force' : 'sys/storage/raft/snapshot', data, (n) => progress.tick(n));
      progress.done(data.length, 'snapshot restored');
      const sealed = (await client.request('GET', 'sys/seal-status')).body?.['sealed'] === true;
      if (sealed) io.err('The server is sealed: unseal it with the key shares of the server the snapshot was taken from.');
      return 0;
    },
  });
}

export const snapshotCommands: readonly Command[] = [
  saveCommand('operator snapshot save'),
  restoreCommand('operator snapshot restore'),
  saveCommand('operator raft snapshot save'),
  restoreCommand('operator raft snapshot restore'),
];
