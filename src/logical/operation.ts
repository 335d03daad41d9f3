/** The logical operations of Vault's request model. HTTP methods map onto these in `http/`. */
export type Operation = 'read' | 'create' | 'update' | 'patch' | 'delete' | 'list';

export const OPERATIONS: readonly Operation[] = ['read', 'create', 'update', 'patch', 'delete', 'list'];
