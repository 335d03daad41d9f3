/**
 * Work deferred to the end of the event loop's turn, and every piece of it that the work itself
 * causes, in that same turn.
 *
 * A callback given to atTurnEnd runs in the check phase (setImmediate), with every other one
 * given during the turn. What their promises' continuations queue in turn (a request's audit
 * entry written lets the request go on, which writes its response entry, whose write lets the
 * response go out) runs once those continuations have settled: a nextTick queued from a microtask
 * runs only when the microtask queue is empty. So a request that waits on two audit writes and a
 * socket write costs one turn of the loop, not three, and each piece still goes out in one write
 * with all the others of its kind.
 */
let queue: (() => void)[] = [];
/** True from the first run of a turn until a check finds nothing more queued. */
let draining = false;
/** Runs in this turn so far; past the bound, what is left waits for the next turn, so I/O is not starved. */
let rounds = 0;
const MAX_ROUNDS = 16;

export function atTurnEnd(fn: () => void): void {
  queue.push(fn);
  if (queue.length === 1 && !draining) setImmediate(run);
}

function run(): void {
  if (!draining) rounds = 0;
  draining = true;
  rounds++;
  const batch = queue;
  queue = [];
  try {
    for (const fn of batch) fn();
  } finally {
    // After the continuations of what just ran have settled: run what they queued, or stop.
    queueMicrotask(() => process.nextTick(settle));
  }
}

function settle(): void {
  if (queue.length > 0 && rounds < MAX_ROUNDS) return run();
  draining = false;
  if (queue.length > 0) setImmediate(run);
}
