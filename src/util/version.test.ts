import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { COFFER_VERSION, VERSION } from './version.js';

describe('VERSION', () => {
  it('is the Vault API level as semver core with coffer\'s release as build metadata', () => {
    assert.match(VERSION, /^1\.\d+\.\d+\+coffer\.\d+\.\d+\.\d+$/);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(COFFER_VERSION, pkg.version, 'the release named in the version is the package\'s');
    assert.ok(VERSION.endsWith(`+coffer.${pkg.version}`));
  });
});
