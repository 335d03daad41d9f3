export { Barrier, KEYRING_PATH } from './barrier.js';
export { BarrierView } from './view.js';
export { seal as sealWithKey, open as openWithKey } from './aead.js';
