/**
 * The audit step of the pipeline. Devices (file, socket, syslog) arrive with the operations
 * milestone; until then the broker has none and every request passes. Once any device is
 * enabled, a request that no device could record fails: nothing is served unaudited.
 */
export interface AuditEntry {
  readonly type: 'request' | 'response';
  readonly requestId: string;
  readonly operation: string;
  readonly path: string;
  /** Keyed hash of the client token; never the token. */
  readonly clientTokenHash: string;
  readonly error?: string;
}

export interface AuditDevice {
  readonly name: string;
  log(entry: AuditEntry): Promise<void>;
}

export class AuditBroker {
  readonly #devices: AuditDevice[] = [];

  get enabled(): boolean {
    return this.#devices.length > 0;
  }

  add(device: AuditDevice): void {
    this.#devices.push(device);
  }

  /** Record an entry; throws only if devices exist and every one of them failed. */
  async log(entry: AuditEntry): Promise<void> {
    if (this.#devices.length === 0) return;
    const results = await Promise.allSettled(this.#devices.map((d) => d.log(entry)));
    if (results.every((r) => r.status === 'rejected')) throw new Error('no audit device could record the request');
  }
}
