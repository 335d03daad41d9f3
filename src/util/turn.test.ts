import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { atTurnEnd } from './turn.js';

describe('atTurnEnd', () => {
  it('runs in the same turn what the continuations of its own work queue, before the next turn', async () => {
    const order: string[] = [];
    await new Promise<void>((done) => {
      let release!: () => void;
      const written = new Promise<void>((r) => (release = r));
      void (async () => {
        await written;
        // Several hops later, as a request goes on after its audit entry is written.
        for (let i = 0; i < 20; i++) await Promise.resolve();
        atTurnEnd(() => {
          order.push('second');
          done();
        });
      })();
      atTurnEnd(() => {
        order.push('first');
        setImmediate(() => order.push('next turn'));
        release();
      });
    });
    assert.deepEqual(order, ['first', 'second']);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ['first', 'second', 'next turn']);
  });

  it('leaves work that keeps queueing more to later turns, so the loop is not starved', async () => {
    let runs = 0;
    let otherTurn = -1;
    await new Promise<void>((done) => {
      const again = () => {
        runs++;
        if (runs === 1) setImmediate(() => (otherTurn = runs));
        if (runs < 100) void Promise.resolve().then(() => atTurnEnd(again));
        else done();
      };
      atTurnEnd(again);
    });
    assert.ok(otherTurn > 0 && otherTurn < 100, `another immediate ran after ${otherTurn} of 100 runs`);
  });
});
