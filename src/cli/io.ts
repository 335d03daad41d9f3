import { createInterface } from 'node:readline';
import type { Io } from './command.js';

/** Read one line from a terminal in raw mode, echoing nothing (unseal keys, tokens). */
function readHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let answer = '';
    const done = (err: Error | null) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(answer);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(null);
        if (ch === '\u0003') return done(new Error('interrupted'));
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else answer += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** Terminal I/O for the real CLI. */
export const processIo: Io = {
  out: (t) => void process.stdout.write(`${t}\n`),
  err: (t) => void process.stderr.write(`${t}\n`),
  async stdin() {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  prompt(question, hidden) {
    if (hidden && process.stdin.isTTY) return readHidden(question);
    // Not a terminal: read the answer as a line from stdin (nothing is echoed there anyway).
    return new Promise((resolve) => {
      const rl = createInterface({ input: process.stdin, terminal: false });
      process.stderr.write(question);
      rl.once('line', (line) => {
        resolve(line); // before close(): closing fires the 'close' listener at once
        rl.close();
      });
      rl.once('close', () => resolve(''));
    });
  },
};
