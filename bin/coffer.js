#!/usr/bin/env node
// The coffer CLI. The TypeScript sources are compiled into dist/ by `npm ci` (the prepare script).
import { processIo, runCli } from '../dist/cli/index.js';

process.exitCode = await runCli(process.argv.slice(2), processIo);
