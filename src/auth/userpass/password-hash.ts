import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BcryptResult, BcryptTask } from './bcrypt-worker.js';

/** Vault's bcrypt cost (bcrypt.DefaultCost). */
const COST = 10;

/**
 * How many bcrypt computations run at once: one core fewer than the process may use (at least
 * one). Each runs on a thread of its own at a lower priority (bcrypt-worker.ts), never on the
 * event loop; held to this many, a burst of logins queues instead of crowding out the event
 * loop, so other requests keep their latency.
 */
const SLOTS = Math.max(1, availableParallelism() - 1);
const WORKER_FILE = new URL('./bcrypt-worker.js', import.meta.url);

interface Job {
  readonly task: BcryptTask;
  resolve(value: string | boolean): void;
  reject(error: Error): void;
}

/**
 * The bcrypt threads, started on first use, each computing one task at a time. A thread holds
 * the process open only while it computes; one that dies fails its task and is replaced.
 */
class BcryptPool {
  readonly #idle: Worker[] = [];
  readonly #running = new Map<Worker, Job>();
  readonly #queue: Job[] = [];

  run(task: BcryptTask): Promise<string | boolean> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ task, resolve, reject });
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const worker = this.#idle.pop() ?? (this.#running.size < SLOTS ? this.#start() : undefined);
      if (!worker) return;
      const job = this.#queue.shift()!;
      this.#running.set(worker, job);
      worker.ref();
      worker.postMessage(job.task);
    }
  }

  #start(): Worker {
    const worker = new Worker(WORKER_FILE);
    worker.unref();
    worker.on('message', (result: BcryptResult) => {
      const job = this.#running.get(worker);
      if (!job) return;
      this.#running.delete(worker);
      worker.unref();
      this.#idle.push(worker);
      if (result.ok) job.resolve(result.value);
      else job.reject(new Error(`bcrypt: ${result.error}`));
      this.#dispatch();
    });
    const lost = (): void => {
      const job = this.#running.get(worker);
      this.#running.delete(worker);
      const i = this.#idle.indexOf(worker);
      if (i !== -1) this.#idle.splice(i, 1);
      job?.reject(new Error('the bcrypt thread stopped'));
      this.#dispatch();
    };
    worker.once('error', lost).once('exit', lost);
    return worker;
  }
}

const pool = new BcryptPool();

/** Hash a password with bcrypt, off the event loop. */
export async function hashPassword(password: string): Promise<string> {
  return String(await pool.run({ op: 'hash', password, cost: COST }));
}

let decoy: Promise<string> | null = null;

/**
 * Check a password against a stored hash; with no hash (no such user), against a decoy of the
 * same cost, so that the answer takes as long whether the user exists or not.
 */
export async function checkPassword(password: string, hash: string | null): Promise<boolean> {
  decoy ??= hashPassword(randomBytes(18).toString('base64')).catch((e: unknown) => {
    decoy = null;
    throw e;
  });
  const against = hash ?? (await decoy);
  const ok = (await pool.run({ op: 'compare', password, hash: against })) === true;
  return ok && hash !== null;
}
