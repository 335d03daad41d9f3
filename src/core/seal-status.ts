/** What sys/seal-status (and sys/health) report of the seal. */
export interface SealStatus {
  readonly type: 'shamir';
  readonly initialized: boolean;
  readonly sealed: boolean;
  readonly t: number;
  readonly n: number;
  readonly progress: number;
  readonly nonce: string;
  readonly version: string;
  readonly build_date: string;
  readonly migration: boolean;
  readonly cluster_name: string;
  readonly cluster_id: string;
  readonly recovery_seal: boolean;
  readonly storage_type: string;
}

export interface InitOptions {
  readonly secretShares: number;
  readonly secretThreshold: number;
  /** A chosen root token value (dev mode only). */
  readonly rootTokenId?: string;
}

/** The seal lifecycle, as the system backend drives it. */
export interface Lifecycle {
  status(): Promise<SealStatus>;
  initialize(opts: InitOptions): Promise<{ keys: Uint8Array[]; rootToken: string }>;
  unseal(share: Uint8Array): Promise<SealStatus>;
  resetUnseal(): void;
  isSealed(): boolean;
  seal(): Promise<void>;
}
