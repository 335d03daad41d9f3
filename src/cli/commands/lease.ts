import { flagBool, flagString, UsageError, type ParsedArgs } from '../args.js';
import { clientFrom, defineCommand, formatOf, HTTP_FLAGS, OUTPUT_FLAGS, printSecret } from '../command.js';
import { humanDuration } from '../output.js';

function leaseId(p: ParsedArgs): string {
  if (p.args.length !== 1) throw new UsageError(`Expected 1 argument (the lease ID), got ${p.args.length}`);
  return p.args[0]!;
}

export const leaseLookupCommand = defineCommand({
  name: 'lease lookup',
  synopsis: 'Look up the information of a lease',
  usage: 'Usage: coffer lease lookup [options] ID\n\n  Show when the lease with ID was issued, when it expires and whether it renews.\n\n      $ coffer lease lookup database/creds/readonly/2f6a614c...',
  flags: [...HTTP_FLAGS, ...OUTPUT_FLAGS],
  async run(p, io) {
    const body = (await clientFrom(p).write('sys/leases/lookup', { lease_id: leaseId(p) })).body ?? {};
    const data = (body['data'] as Record<string, unknown> | null) ?? {};
    // The table shows the TTL as Vault's CLI does ("9m52s"); -format=json keeps the seconds.
    const shown = formatOf(p) === 'table' && typeof data['ttl'] === 'number' ? { ...data, ttl: humanDuration(data['ttl']) } : data;
    return printSecret(io, p, body, shown);
  },
});

export const leaseRenewCommand = defineCommand({
  name: 'lease renew',
  synopsis: 'Renew the lease of a secret',
  usage: 'Usage: coffer lease renew [options] ID\n\n  Extend the lease with ID by -increment (the role\'s TTL when not given), within its max TTL.\n\n      $ coffer lease renew -increment=1h database/creds/readonly/2f6a614c...',
  flags: [...HTTP_FLAGS, ...OUTPUT_FLAGS, { name: 'increment', kind: 'string', usage: 'Requested extension, e.g. "1h".' }],
  async run(p, io) {
    const increment = flagString(p, 'increment');
    const body = (await clientFrom(p).write('sys/leases/renew', { lease_id: leaseId(p), ...(increment ? { increment } : {}) })).body ?? {};
    return printSecret(io, p, body, null);
  },
});

export const leaseRevokeCommand = defineCommand({
  name: 'lease revoke',
  synopsis: 'Revoke leases and their secrets',
  usage: `Usage: coffer lease revoke [options] ID

  Revoke the lease with ID, or with -prefix every lease under ID. A revocation that fails is
  retried with backoff unless -sync is given, which answers with the error instead. -force
  (with -prefix) deletes the leases even where the secret could not be revoked.

      $ coffer lease revoke -prefix database/creds`,
  flags: [
    ...HTTP_FLAGS,
    { name: 'prefix', kind: 'bool', usage: 'Treat ID as a prefix.' },
    { name: 'force', kind: 'bool', usage: 'Delete the leases even if revocation fails (needs -prefix).' },
    { name: 'f', kind: 'bool', usage: 'Alias of -force.' },
    { name: 'sync', kind: 'bool', usage: 'Wait for the revocation and report its error.' },
  ],
  async run(p, io) {
    const id = leaseId(p);
    const force = flagBool(p, 'force') || flagBool(p, 'f');
    const prefix = flagBool(p, 'prefix');
    const sync = flagBool(p, 'sync');
    const client = clientFrom(p);
    if (force && !prefix) throw new UsageError('Specifying -force requires also specifying -prefix');
    if (force) {
      await client.write(`sys/leases/revoke-force/${id}`, {});
      io.err('Warning! Force-removing leases can cause coffer to become out of sync with secret engines!');
      io.out(`Success! Force revoked any leases with prefix: ${id}`);
    } else if (prefix) {
      await client.write(`sys/leases/revoke-prefix/${id}`, { sync });
      io.out(`Success! Revoked any leases with prefix: ${id}`);
    } else {
      await client.write('sys/leases/revoke', { lease_id: id, sync });
      io.out(`Success! Revoked lease: ${id}`);
    }
    return 0;
  },
});

export const leaseCommands = [leaseLookupCommand, leaseRenewCommand, leaseRevokeCommand];
