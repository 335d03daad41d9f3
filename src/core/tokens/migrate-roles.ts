import type { StorageView } from '../../logical/index.js';

/**
 * Token roles used to live in the token store's view (sys/token/roles/); they are the token
 * mount's data and now live in its own view. Move any left in the old place: copy, then delete,
 * so an interrupted move is finished (never undone) by the next start.
 */
export async function migrateTokenRoles(tokenStoreView: StorageView, mountView: StorageView): Promise<void> {
  for (const name of await tokenStoreView.list('roles/')) {
    if (name.endsWith('/')) continue;
    const value = await tokenStoreView.get(`roles/${name}`);
    if (value !== null) await mountView.put(`roles/${name}`, value);
    await tokenStoreView.delete(`roles/${name}`);
  }
}
