import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RSYSLOGD = '/usr/sbin/rsyslogd';

/** How long rsyslogd may take to create its socket. */
const START_MS = 10_000;

/**
 * Why a test that needs rsyslogd cannot run, or false. By hand it is skipped with this message;
 * in CI (CI=true) it fails: .ci/run installs Debian's rsyslog.
 */
export function rsyslogMissing(): string | false {
  if (existsSync(RSYSLOGD)) return false;
  const why = `${RSYSLOGD} is not installed (apt-get install rsyslog)`;
  if (process.env['CI'] === 'true') throw new Error(why);
  return why;
}

/**
 * A real syslog daemon (Debian's rsyslogd) of the test's own: it listens on a Unix datagram
 * socket (one of its temporary directory, or a path given, such as /dev/log) and writes every
 * message it receives, unchanged, to a file the test reads.
 */
export class ScratchSyslog {
  readonly socket: string;
  readonly #dir: string;
  readonly #out: string;
  readonly #child: ChildProcess;

  private constructor(dir: string, socket: string, child: ChildProcess) {
    this.#dir = dir;
    this.socket = socket;
    this.#out = join(dir, 'messages');
    this.#child = child;
  }

  static async start(socket?: string): Promise<ScratchSyslog> {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-syslog-'));
    const path = socket ?? join(dir, 'log');
    const conf = join(dir, 'rsyslog.conf');
    writeFileSync(
      conf,
      [
        `global(workDirectory="${dir}" maxMessageSize="256k")`,
        `module(load="imuxsock" SysSock.Name="${path}" SysSock.Unlink="on" SysSock.RateLimit.Interval="0")`,
        // The raw message as received, priority included, one per line.
        'template(name="raw" type="string" string="%rawmsg%\\n")',
        `*.* action(type="omfile" file="${join(dir, 'messages')}" template="raw")`,
        '',
      ].join('\n'),
    );
    const child = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', join(dir, 'pid')], { stdio: 'ignore' });
    const syslog = new ScratchSyslog(dir, path, child);
    const deadline = Date.now() + START_MS;
    while (!(existsSync(path) && statSync(path).isSocket())) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await syslog.stop();
        throw new Error(`rsyslogd did not open its socket ${path}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return syslog;
  }

  /** Every message the daemon wrote so far. */
  messages(): string[] {
    if (!existsSync(this.#out)) return [];
    return readFileSync(this.#out, 'utf8').split('\n').filter((l) => l !== '');
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null) {
      const exited = new Promise((r) => this.#child.once('exit', r));
      this.#child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.#dir, { recursive: true, force: true });
    // With SysSock.Unlink rsyslogd removes its socket on exit; a path given outside the directory too.
    if (!this.socket.startsWith(this.#dir)) rmSync(this.socket, { force: true });
  }
}
