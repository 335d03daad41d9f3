import { createInterface } from 'node:readline';
import type { Io } from './command.js';

/** Terminal I/O for the real CLI. Hidden prompts switch the terminal's echo off. */
export const processIo: Io = {
  out: (t) => void process.stdout.write(`${t}\n`),
  err: (t) => void process.stderr.write(`${t}\n`),
  async stdin() {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  prompt(question, hidden) {
    return new Promise((resolve) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY === true });
      if (hidden && process.stdin.isTTY) {
        // Echo nothing of what is typed: overwrite readline's own output.
        (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
          if (s.includes(question)) process.stderr.write(question);
        };
      }
      rl.question(question, (answer) => {
        rl.close();
        if (hidden && process.stdin.isTTY) process.stderr.write('\n');
        resolve(answer);
      });
    });
  },
};
