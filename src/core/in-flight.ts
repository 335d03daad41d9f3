/** One request being answered, as sys/in-flight-req lists it. */
export interface InFlightRequest {
  readonly start_time: string;
  readonly client_remote_address: string;
  readonly request_path: string;
  readonly request_method: string;
  readonly client_id: string;
}

/** What the HTTP layer notes of a request when it arrives. */
interface Arrival {
  readonly startMs: number;
  readonly address: string;
  readonly port: number | undefined;
  readonly path: string;
  readonly method: string;
}

/**
 * The requests the server is answering now (sys/in-flight-req, vault.core.in_flight_requests):
 * what each came for and from where, never its body. The HTTP layer notes a request when it
 * arrives and forgets it when it is answered; the listing is built only when asked for.
 */
export class InFlightRequests {
  readonly #requests = new Map<string, Arrival>();

  begin(id: string, arrival: Arrival): void {
    this.#requests.set(id, arrival);
  }

  end(id: string): void {
    this.#requests.delete(id);
  }

  get size(): number {
    return this.#requests.size;
  }

  list(): Record<string, InFlightRequest> {
    const out: Record<string, InFlightRequest> = {};
    for (const [id, r] of this.#requests) {
      out[id] = {
        start_time: new Date(r.startMs).toISOString(),
        client_remote_address: r.port === undefined ? r.address : r.address.includes(':') ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}`,
        request_path: r.path,
        request_method: r.method,
        client_id: '',
      };
    }
    return out;
  }
}
