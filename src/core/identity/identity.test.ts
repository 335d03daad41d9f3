import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { newTestCore, type TestCore } from '../testing.js';

const cores: TestCore[] = [];
after(async () => {
  for (const t of cores) await t.core.seal();
});

/** A core with userpass at auth/userpass/, a user alice, and a policy "extra" granting secret/data/extra. */
async function setup(): Promise<TestCore & { accessor: string; login: (user?: string) => Promise<{ token: string; entityId: string; identityPolicies: readonly string[] }> }> {
  const t = await newTestCore();
  cores.push(t);
  await t.request('update', 'sys/auth/userpass', { type: 'userpass' });
  await t.request('update', 'auth/userpass/users/alice', { password: 'pw' });
  await t.request('update', 'auth/userpass/users/bob', { password: 'pw' });
  await t.request('update', 'sys/policy/extra', { policy: 'path "secret/data/extra" { capabilities = ["read"] }' });
  await t.request('update', 'secret/data/extra', { data: { k: 'v' } });
  const accessor = String(((await t.request('read', 'sys/auth'))?.data?.['userpass/'] as { accessor: string }).accessor);
  const login = async (user = 'alice') => {
    const auth = (await t.core.handle({ operation: 'update', path: `auth/userpass/login/${user}`, data: { password: 'pw' }, token: '' })).response!.auth!;
    return { token: auth.clientToken, entityId: auth.entityId, identityPolicies: auth.identityPolicies };
  };
  return Object.assign(t, { accessor, login });
}

describe('identity', () => {
  it('creates an entity and alias at first login and finds the same one afterwards', async () => {
    const t = await setup();
    const first = await t.login();
    assert.equal((await t.login()).entityId, first.entityId);
    const entity = (await t.request('read', `identity/entity/id/${first.entityId}`))!.data!;
    const aliases = entity['aliases'] as { name: string; mount_accessor: string; mount_type: string }[];
    assert.deepEqual(aliases.map((a) => [a.name, a.mount_accessor, a.mount_type]), [['alice', t.accessor, 'userpass']]);
    const found = await t.request('update', 'identity/lookup/entity', { alias_name: 'alice', alias_mount_accessor: t.accessor });
    assert.equal(found?.data?.['id'], first.entityId);
    assert.deepEqual((await t.request('list', 'identity/entity/id'))?.data?.['keys'], [first.entityId]);
  });

  it('applies entity policies to tokens already issued, and reports them as identity_policies', async () => {
    const t = await setup();
    const { token, entityId } = await t.login();
    await assert.rejects(t.request('read', 'secret/data/extra', {}, token), { code: 'permission_denied' });
    await t.request('update', `identity/entity/id/${entityId}`, { policies: 'extra' });
    assert.ok(await t.request('read', 'secret/data/extra', {}, token));
    const again = await t.login();
    assert.deepEqual(again.identityPolicies, ['extra']);
    assert.deepEqual((await t.request('read', 'auth/token/lookup-self', {}, token))?.data?.['identity_policies'], ['extra'], 'lookup-self reports them too');
    await t.request('update', `identity/entity/id/${entityId}`, { policies: [] });
    await assert.rejects(t.request('read', 'secret/data/extra', {}, token), { code: 'permission_denied' });
  });

  it('applies the policies of groups the entity is in, directly or through a member group', async () => {
    const t = await setup();
    const { token, entityId } = await t.login();
    const inner = (await t.request('update', 'identity/group', { name: 'devs', member_entity_ids: [entityId] }))!.data!['id'] as string;
    await t.request('update', 'identity/group', { name: 'eng', policies: 'extra', member_group_ids: [inner] });
    assert.ok(await t.request('read', 'secret/data/extra', {}, token), 'the outer group\'s policy reaches the member group\'s entity');
    const eng = (await t.request('read', 'identity/group/name/eng'))!.data!;
    await assert.rejects(t.request('update', `identity/group/id/${inner}`, { member_group_ids: [eng['id']] }), { code: 'invalid_request' }, 'no cycles');
    const entity = (await t.request('read', `identity/entity/id/${entityId}`))!.data!;
    assert.deepEqual(entity['direct_group_ids'], [inner]);
    assert.deepEqual(entity['inherited_group_ids'], [eng['id']]);
    await t.request('delete', 'identity/group/name/eng');
    await assert.rejects(t.request('read', 'secret/data/extra', {}, token), { code: 'permission_denied' });
  });

  it('never gives root through identity, whatever the case or spacing', async () => {
    const t = await setup();
    const { entityId } = await t.login();
    for (const name of ['root', ' ROOT', 'Root ']) {
      await assert.rejects(t.request('update', `identity/entity/id/${entityId}`, { policies: ['extra', name] }), { code: 'invalid_request' });
      await assert.rejects(t.request('update', 'identity/group', { name: 'g', policies: [name] }), { code: 'invalid_request' });
    }
    await t.request('update', `identity/entity/id/${entityId}`, { policies: [' Extra '] });
    assert.deepEqual((await t.request('read', `identity/entity/id/${entityId}`))?.data?.['policies'], ['extra']);
  });

  it('refuses every token of a disabled entity', async () => {
    const t = await setup();
    const { token, entityId } = await t.login();
    await t.request('update', `identity/entity/id/${entityId}`, { disabled: true });
    await assert.rejects(t.request('read', 'auth/token/lookup-self', {}, token), { code: 'permission_denied' });
    await assert.rejects(t.login(), { code: 'permission_denied' });
    await t.request('update', `identity/entity/id/${entityId}`, { disabled: false });
    assert.ok(await t.request('read', 'auth/token/lookup-self', {}, token));
  });

  it('merges entities: the aliases move and the merged entity is gone', async () => {
    const t = await setup();
    await t.request('update', 'sys/auth/second', { type: 'userpass' });
    await t.request('update', 'auth/second/users/alice', { password: 'pw' });
    const a = await t.login();
    const other = (await t.core.handle({ operation: 'update', path: 'auth/second/login/alice', data: { password: 'pw' }, token: '' })).response!.auth!;
    assert.notEqual(other.entityId, a.entityId);
    await t.request('update', 'identity/entity/merge', { from_entity_ids: [other.entityId], to_entity_id: a.entityId });
    assert.equal(await t.request('read', `identity/entity/id/${other.entityId}`), null);
    const merged = (await t.request('read', `identity/entity/id/${a.entityId}`))!.data!;
    assert.equal((merged['aliases'] as unknown[]).length, 2);
    const again = (await t.core.handle({ operation: 'update', path: 'auth/second/login/alice', data: { password: 'pw' }, token: '' })).response!.auth!;
    assert.equal(again.entityId, a.entityId, 'the moved alias logs in to the merged entity');
  });

  it('maps an external group by its alias and refuses members set by hand', async () => {
    const t = await setup();
    const g = (await t.request('update', 'identity/group', { name: 'idp-admins', type: 'external', policies: 'extra' }))!.data!['id'] as string;
    await assert.rejects(t.request('update', `identity/group/id/${g}`, { member_entity_ids: ['x'] }), { code: 'invalid_request' });
    const alias = (await t.request('update', 'identity/group-alias', { name: 'admins', mount_accessor: t.accessor, canonical_id: g }))!.data!;
    const found = await t.request('update', 'identity/lookup/group', { alias_name: 'admins', alias_mount_accessor: t.accessor });
    assert.equal(found?.data?.['id'], g);
    assert.equal((await t.request('read', `identity/group-alias/id/${String(alias['id'])}`))?.data?.['name'], 'admins');
    await assert.rejects(t.request('update', 'identity/group-alias', { name: 'admins', mount_accessor: 'auth_nope_1', canonical_id: g }), { message: 'invalid mount accessor' });
  });

  it('fills templated policy paths from the caller\'s entity, so one policy gives each service its own path', async () => {
    const t = await setup();
    await t.request('update', 'sys/policy/own', { policy: 'path "secret/data/{{identity.entity.aliases.' + t.accessor + '.name}}/*" { capabilities = ["read"] }\npath "secret/data/team/{{identity.entity.metadata.team}}" { capabilities = ["read"] }' });
    await t.request('update', 'auth/userpass/users/alice', { token_policies: 'own' });
    await t.request('update', 'secret/data/alice/db', { data: { k: 'a' } });
    await t.request('update', 'secret/data/bob/db', { data: { k: 'b' } });
    await t.request('update', 'secret/data/team/red', { data: { k: 'r' } });
    const { token, entityId } = await t.login();
    assert.ok(await t.request('read', 'secret/data/alice/db', {}, token));
    await assert.rejects(t.request('read', 'secret/data/bob/db', {}, token), { code: 'permission_denied' });
    await assert.rejects(t.request('read', 'secret/data/team/red', {}, token), { code: 'permission_denied' }, 'a missing metadata key grants nothing');
    await t.request('update', `identity/entity/id/${entityId}`, { metadata: { team: 'red' } });
    assert.ok(await t.request('read', 'secret/data/team/red', {}, token), 'a change to the entity applies at once');
    const caps = await t.request('update', 'sys/capabilities-self', { paths: ['secret/data/alice/db', 'secret/data/bob/db'] }, token);
    assert.deepEqual([caps?.data?.['secret/data/alice/db'], caps?.data?.['secret/data/bob/db']], [['read'], ['deny']]);
  });

  it('grants a hostile alias name or metadata value nothing beyond its own literal path', async () => {
    const t = await newTestCore();
    cores.push(t);
    await t.request('update', 'sys/auth/approle', { type: 'approle' });
    const accessor = String(((await t.request('read', 'sys/auth'))?.data?.['approle/'] as { accessor: string }).accessor);
    const name = `{{identity.entity.aliases.${accessor}.name}}`;
    await t.request('update', 'sys/policy/own', {
      policy: `path "secret/data/${name}" { capabilities = ["read"] }\npath "secret/data/${name}/*" { capabilities = ["read"] }\npath "secret/data/m/{{identity.entity.metadata.team}}" { capabilities = ["read"] }`,
    });
    for (const p of ['other', 'other/deep', 'a/b', 'bob', 'bob/x', 'm/other', 'm/x/y']) await t.request('update', `secret/data/${p}`, { data: { k: p } });
    for (const [i, hostile] of ['*', '+', 'a+b', 'alice/../bob', '}}{{', 'x/+'].entries()) {
      await t.request('update', `auth/approle/role/r${i}`, { role_id: hostile, token_policies: 'own' });
      const secret = (await t.request('update', `auth/approle/role/r${i}/secret-id`))!.data!['secret_id'];
      const auth = (await t.core.handle({ operation: 'update', path: 'auth/approle/login', data: { role_id: hostile, secret_id: secret }, token: '' })).response!.auth!;
      await t.request('update', `identity/entity/id/${auth.entityId}`, { metadata: { team: hostile } });
      for (const p of ['other', 'other/deep', 'a/b', 'bob', 'bob/x', 'm/other', 'm/x/y']) {
        await assert.rejects(t.request('read', `secret/data/${p}`, {}, auth.clientToken), { code: 'permission_denied' }, `role id ${JSON.stringify(hostile)} reached secret/data/${p}`);
      }
    }
    await t.request('update', 'secret/data/*', { data: { k: 'literal' } });
    const secret = (await t.request('update', 'auth/approle/role/r0/secret-id'))!.data!['secret_id'];
    const star = (await t.core.handle({ operation: 'update', path: 'auth/approle/login', data: { role_id: '*', secret_id: secret }, token: '' })).response!.auth!;
    assert.ok(await t.request('read', 'secret/data/*', {}, star.clientToken), 'the role id "*" reads its own literal path');
  });
});
