export { createHandler, decodePath, type HttpHandler, type HttpRequest, type HandlerOptions } from './handler.js';
export { startListener, parseAddress, type ListenerConfig, type RunningListener } from './server.js';
export { DEFAULT_JSON_LIMITS, type JsonLimits } from './json-limits.js';
export { openSslCiphers } from './tls-options.js';
export type { HttpResponse } from './wire.js';
