/** One request being answered, as sys/in-flight-req lists it. */
export interface InFlightRequest {
  readonly start_time: string;
  readonly client_remote_address: string;
  readonly request_path: string;
  readonly request_method: string;
  readonly client_id: string;
}

/** What the HTTP layer notes of a request when it arrives (the request target may carry its query). */
export interface Arrival {
  readonly method: string;
  readonly url: string;
  readonly connection?: { readonly remoteAddress: string; readonly remotePort?: number | undefined };
}

/** One noted request: a link of the list of those in flight. */
export interface InFlight {
  readonly id: string;
  readonly arrival: Arrival;
  readonly startMs: number;
  prev: InFlight | null;
  next: InFlight | null;
}

/**
 * The requests the server is answering now (sys/in-flight-req, vault.core.in_flight_requests):
 * what each came for and from where, never its body. The HTTP layer notes a request when it
 * arrives and forgets it when it is answered; the listing is built only when asked for.
 */
export class InFlightRequests {
  /** A doubly linked list: noting and forgetting a request is a few pointer writes, nothing hashed. */
  #head: InFlight | null = null;
  #size = 0;

  /** Note a request; hand what this answers to end() when it is answered. */
  begin(id: string, arrival: Arrival): InFlight {
    const entry: InFlight = { id, arrival, startMs: Date.now(), prev: null, next: this.#head };
    if (this.#head) this.#head.prev = entry;
    this.#head = entry;
    this.#size++;
    return entry;
  }

  end(entry: InFlight): void {
    if (entry.prev) entry.prev.next = entry.next;
    else if (this.#head === entry) this.#head = entry.next;
    else return; // not (or no longer) in the list
    if (entry.next) entry.next.prev = entry.prev;
    entry.prev = entry.next = null;
    this.#size--;
  }

  get size(): number {
    return this.#size;
  }

  list(): Record<string, InFlightRequest> {
    const out: Record<string, InFlightRequest> = {};
    for (let e = this.#head; e !== null; e = e.next) {
      const { id, arrival, startMs } = e;
      const address = arrival.connection?.remoteAddress ?? '';
      const port = arrival.connection?.remotePort;
      out[id] = {
        start_time: new Date(startMs).toISOString(),
        client_remote_address: port === undefined ? address : address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`,
        request_path: arrival.url.split('?', 1)[0]!,
        request_method: arrival.method,
        client_id: '',
      };
    }
    return out;
  }
}
