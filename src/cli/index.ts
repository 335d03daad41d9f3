export { runCli, COMMANDS } from './main.js';
export { processIo } from './io.js';
