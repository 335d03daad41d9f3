import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import bcrypt from 'bcrypt';

/**
 * One bcrypt thread of password-hash.ts's pool. It runs at nice 5 (on Linux a thread's nice
 * value is its own), so when it shares a busy core with the event loop it gets about a quarter
 * of that core instead of half: a burst of logins slows other requests less, and logins still
 * go on at a steady rate however busy the server is. (At nice 10 and above, a core saturated by
 * reads starved them into timeouts.)
 */
export type BcryptTask = { readonly op: 'hash'; readonly password: string; readonly cost: number } | { readonly op: 'compare'; readonly password: string; readonly hash: string };
export type BcryptResult = { readonly ok: true; readonly value: string | boolean } | { readonly ok: false; readonly error: string };

const NICE = 5;

try {
  setPriority(0, NICE);
} catch {
  // Not permitted here: the thread runs at the process's priority, which is only slower for others.
}

const port = parentPort!;
port.on('message', (task: BcryptTask) => {
  let result: BcryptResult;
  try {
    const value = task.op === 'hash' ? bcrypt.hashSync(task.password, task.cost) : bcrypt.compareSync(task.password, task.hash);
    result = { ok: true, value };
  } catch (e) {
    result = { ok: false, error: (e as Error).message };
  }
  port.postMessage(result);
});
