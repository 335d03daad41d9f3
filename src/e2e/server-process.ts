import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/coffer.js');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A free loopback port (bound and released; good enough for tests). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Poll until check() is true or the deadline passes. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Run the coffer CLI with only this environment (and PATH), stdin given. */
export function runCli(args: readonly string[], env: Readonly<Record<string, string>>, stdin?: string): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr });
    });
    child.stdin!.end(stdin ?? '');
  });
}

/** A directory holding a `coffer` command (this checkout's CLI), for shells to find on PATH. */
let commandDir: string | null = null;
function cofferOnPath(): string {
  if (commandDir) return commandDir;
  const dir = tempDir('coffer-bin-');
  writeFileSync(join(dir, 'coffer'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
  commandDir = dir;
  return dir;
}

/**
 * A command line run by /bin/sh exactly as a user types it, `coffer` for `vault`, with only this
 * environment and a PATH on which `coffer` is this checkout's CLI.
 */
export function shell(line: string, env: Readonly<Record<string, string>>, stdin?: string): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile('/bin/sh', ['-c', line], { env: { ...env, PATH: `${cofferOnPath()}:${process.env['PATH'] ?? ''}` }, timeout: 20_000 }, (error, out, err) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out, err }),
    );
    // A command that exits without reading its input is not an error of the test's.
    child.stdin!.on('error', () => {});
    child.stdin!.end(stdin ?? '');
  });
}

export interface ServerProcess {
  readonly proc: ChildProcess;
  readonly url: string;
  readonly port: number;
  readonly configFile: string;
  /** Collected stderr (logs), for failure messages. */
  logs(): string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  readonly exited: Promise<number | string>;
}

/** Start `coffer server -config` on SQLite in dir and wait until it answers sys/health; `listenerConfig` adds lines to its listener block. */
export async function startServerProcess(dir: string, port?: number, opts: { pin?: number; extraConfig?: string; listenerConfig?: string } = {}): Promise<ServerProcess> {
  const p = port ?? (await freePort());
  const configFile = join(dir, 'coffer.hcl');
  writeFileSync(configFile, `storage "sqlite" {\n  path = "${join(dir, 'coffer.db')}"\n}\nlistener "tcp" {\n  address = "127.0.0.1:${p}"\n  tls_disable = true\n${opts.listenerConfig ?? ''}}\n${opts.extraConfig ?? ''}`);
  const argv = [BIN, 'server', `-config=${configFile}`, '-log-level=warn'];
  // For benchmarks: run the server on one CPU with taskset.
  const proc =
    opts.pin === undefined
      ? spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('taskset', ['-c', String(opts.pin), process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout!.resume();
  const exited = new Promise<number | string>((r) => proc.on('exit', (code, signal) => r(code ?? signal ?? 'unknown')));
  const url = `http://127.0.0.1:${p}`;
  await waitFor('the server to listen', async () => {
    if (proc.exitCode !== null) throw new Error(`server exited early: ${stderr}`);
    const res = await fetch(`${url}/v1/sys/seal-status`);
    return res.status === 200;
  });
  return { proc, url, port: p, configFile, logs: () => stderr, exited };
}

export async function api(url: string, path: string, opts: { method?: string; token?: string; body?: unknown } = {}): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const res = await fetch(`${url}/v1/${path}`, {
    method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
    headers: opts.token ? { 'X-Vault-Token': opts.token } : {},
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

/**
 * A write load for crash tests: writers putting KV v2 secrets (`secret/data/<prefix><n>`, each
 * with a value of its own) as fast as the server takes them, until stopped or the server is gone.
 * `acked` holds every write the server acknowledged.
 */
export function writeLoad(url: string, token: string, opts: { writers: number; prefix: string }): { acked: Map<string, string>; stop(): Promise<void> } {
  const acked = new Map<string, string>();
  let n = 0;
  let stopped = false;
  const writer = async () => {
    while (!stopped) {
      const key = `${opts.prefix}${n++}`;
      const value = `value-${key}-${Math.random().toString(36).slice(2)}`;
      try {
        if ((await api(url, `secret/data/${key}`, { body: { data: { value } }, token })).status === 200) acked.set(key, value);
      } catch {
        return; // the server is gone
      }
    }
  };
  const running = Array.from({ length: opts.writers }, writer);
  return {
    acked,
    stop: async () => {
      stopped = true;
      await Promise.all(running);
    },
  };
}

/** The acknowledged writes of a writeLoad that do not read back from the server at url. */
export async function unreadable(url: string, token: string, acked: ReadonlyMap<string, string>): Promise<string[]> {
  const lost: string[] = [];
  await Promise.all(
    [...acked].map(async ([key, value]) => {
      const res = await api(url, `secret/data/${key}`, { token });
      if ((res.body?.['data'] as { data?: { value?: string } } | undefined)?.data?.value !== value) lost.push(key);
    }),
  );
  return lost;
}

/** Initialise with 5 shares / threshold 3 and unseal with the first three. */
export async function initAndUnseal(url: string): Promise<{ keys: string[]; rootToken: string }> {
  const init = await api(url, 'sys/init', { method: 'PUT', body: { secret_shares: 5, secret_threshold: 3 } });
  if (init.status !== 200) throw new Error(`init failed: ${JSON.stringify(init.body)}`);
  const keys = init.body!['keys'] as string[];
  for (const k of keys.slice(0, 3)) await api(url, 'sys/unseal', { method: 'PUT', body: { key: k } });
  return { keys, rootToken: String(init.body!['root_token']) };
}

export async function unsealWith(url: string, keys: readonly string[]): Promise<void> {
  for (const k of keys) await api(url, 'sys/unseal', { method: 'PUT', body: { key: k } });
}
