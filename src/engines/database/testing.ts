import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Whether a service a test needs answers. By hand a test without it is skipped with a message
 * saying so; in CI (CI=true) it fails, so a missing server never passes for a green run.
 */
export async function serviceOrSkip(name: string, probe: () => Promise<unknown>): Promise<string | false> {
  try {
    await probe();
    return false;
  } catch (e) {
    const why = `${name} is not reachable (${e instanceof Error ? e.message : 'error'}); start it as the env page says`;
    if (process.env['CI'] === 'true') throw new Error(why);
    return why;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

/**
 * A throwaway PostgreSQL cluster that checks passwords (scram-sha-256 in pg_hba.conf) on a free
 * port: the machine's own server trusts every local connection, so a login there proves nothing
 * about a password. Runs as the postgres user, as initdb refuses root.
 */
export class ScratchPostgres {
  readonly dir: string;
  readonly port: number;
  readonly password = 'scratch-admin-pw';

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
  }

  static async start(): Promise<ScratchPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-pg-'));
    chmodSync(dir, 0o700);
    const pwFile = join(dir, 'pw');
    const data = join(dir, 'data');
    const pg = new ScratchPostgres(dir, await freePort());
    writeFileSync(pwFile, pg.password, { mode: 0o600 });
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    chownSync(dir, uid, gid);
    chownSync(pwFile, uid, gid);
    const as = (cmd: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', join(PG_BIN, cmd), ...args], { cwd: dir });
    await as('initdb', ['-D', data, '-U', 'postgres', '--pwfile', pwFile, '--auth', 'scram-sha-256', '-E', 'UTF8']);
    await pg.startServer();
    return pg;
  }

  async startServer(): Promise<void> {
    await run('runuser', ['-u', 'postgres', '--', join(PG_BIN, 'pg_ctl'), '-D', join(this.dir, 'data'), '-w', '-l', join(this.dir, 'log'),
      '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start'], { cwd: this.dir });
  }

  async stopServer(): Promise<void> {
    await run('runuser', ['-u', 'postgres', '--', join(PG_BIN, 'pg_ctl'), '-D', join(this.dir, 'data'), '-w', '-m', 'fast', 'stop'], { cwd: this.dir });
  }

  url(user = '{{username}}', password = '{{password}}', db = 'postgres'): string {
    return `postgresql://${user}:${password}@127.0.0.1:${this.port}/${db}?sslmode=disable`;
  }

  async destroy(): Promise<void> {
    await this.stopServer().catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}
