import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { checkPassword, hashPassword } from './password-hash.js';

/** Each thread of this process with its nice value (field 19 of /proc/self/task/TID/stat). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').map((tid) => Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]));
}

describe('password hashing', () => {
  it('hashes with bcrypt at Vault\'s cost and checks passwords against the hash', async () => {
    const hash = await hashPassword('correct horse');
    assert.match(hash, /^\$2[aby]\$10\$/);
    assert.equal(await checkPassword('correct horse', hash), true);
    assert.equal(await checkPassword('correct horsE', hash), false);
    assert.equal(await checkPassword('correct horse', null), false, 'no user: checked against the decoy, never a match');
  });

  it('keeps the event loop turning while passwords are hashed, on a thread of lower priority', async () => {
    const hash = await hashPassword('pw');
    let turns = 0;
    let hashing = true;
    const spin = (): void => {
      turns++;
      if (hashing) setImmediate(spin);
    };
    setImmediate(spin);
    const checks = Promise.all(Array.from({ length: 4 }, () => checkPassword('pw', hash)));
    const niceDuring = threadNiceValues();
    assert.deepEqual(await checks, [true, true, true, true]);
    hashing = false;
    assert.ok(turns > 4, `the event loop turned ${turns} times during four bcrypt checks`);
    if (process.platform === 'linux') assert.ok(niceDuring.includes(5), `a bcrypt thread runs at nice 5 (threads: ${niceDuring.join(',')})`);
  });

  it('answers many concurrent checks, each with its own result', async () => {
    const [a, b] = await Promise.all([hashPassword('alpha'), hashPassword('beta')]);
    const cases: [string, string, boolean][] = [['alpha', a, true], ['beta', a, false], ['beta', b, true], ['alpha', b, false], ['alpha', a, true], ['beta', b, true]];
    const results = await Promise.all(cases.map(([password, hash]) => checkPassword(password, hash)));
    assert.deepEqual(results, cases.map(([, , expected]) => expected));
  });
});
