// The parts of node-vault-client (which ships no types) that the e2e tests use.
declare module 'node-vault-client' {
  interface Lease {
    getValue(key: string): unknown;
    getData(): Record<string, unknown>;
  }
  interface VaultClientInstance {
    read(path: string): Promise<Lease>;
  }
  interface BootOptions {
    api: { url: string; apiVersion?: string };
    auth: { type: 'appRole' | 'token' | 'kubernetes' | 'iam'; mount?: string; config: Record<string, string> };
    logger?: false;
  }
  const VaultClient: {
    boot(name: string, options: BootOptions): VaultClientInstance;
    clear(name?: string): void;
  };
  export = VaultClient;
}
