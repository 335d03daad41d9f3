export * from './ast.js';
export { parseHcl, HclSyntaxError } from './parse.js';
export { formatHcl } from './format.js';
