import { flagBool, flagString, UsageError } from '../args.js';
import { writeTokenFile } from '../client.js';
import { defineCommand } from '../command.js';
import { ConfigError, loadConfig } from '../../config/index.js';
import { devConfig, makeLogger, startServer } from '../../main.js';

export const serverCommand = defineCommand({
  name: 'server',
  synopsis: 'Start a coffer server',
  usage: `Usage: coffer server [options]

  Start a server. With -config it starts from a configuration file (HCL or JSON), sealed and,
  on first start, uninitialised: run "coffer operator init" and "coffer operator unseal" next.
  With -dev it starts in memory, initialised and unsealed, with KV v2 at secret/. Nothing a
  dev server stores survives it.

      $ coffer server -config=/etc/coffer/coffer.hcl
      $ coffer server -dev -dev-root-token-id=root`,
  flags: [
    { name: 'config', kind: 'string', usage: 'Path to a configuration file.' },
    { name: 'dev', kind: 'bool', usage: 'Run an in-memory development server, unsealed, with one key share.' },
    { name: 'dev-root-token-id', kind: 'string', usage: 'Root token value for -dev (default: random).' },
    { name: 'dev-listen-address', kind: 'string', usage: 'Address for -dev to listen on.', default: '127.0.0.1:8200' },
    { name: 'log-level', kind: 'string', usage: 'Log level: trace, debug, info, warn, error.' },
  ],
  async run(p, io) {
    const dev = flagBool(p, 'dev');
    const configFile = flagString(p, 'config');
    if (!dev && !configFile) throw new UsageError('either -config or -dev is required');
    let config;
    try {
      config = dev ? devConfig(flagString(p, 'dev-listen-address', '127.0.0.1:8200')) : loadConfig(configFile);
    } catch (e) {
      if (e instanceof ConfigError) {
        io.err(`Error loading configuration: ${e.message}`);
        return 1;
      }
      throw e;
    }
    const level = flagString(p, 'log-level');
    const logger = makeLogger(level === 'trace' || level === 'debug' || level === 'warn' || level === 'error' ? level : config.logLevel);
    let server: Awaited<ReturnType<typeof startServer>>;
    try {
      server = await startServer(config, logger, dev ? { rootTokenId: flagString(p, 'dev-root-token-id'), listenAddress: flagString(p, 'dev-listen-address', '127.0.0.1:8200') } : undefined);
    } catch (e) {
      io.err(`Error starting the server: ${e instanceof Error ? e.message : String(e)}`);
      return 1;
    }
    // Every request's errors are caught where they happen; anything that still escapes is logged
    // (by type only: a message may quote secret material) rather than taking the server down.
    process.on('unhandledRejection', (e) => logger.error('unhandled rejection', { error: e instanceof Error ? e.name : typeof e }));
    const l = server.listeners[0]!;
    const addr = `${l.address.includes(':') ? `[${l.address}]` : l.address}:${l.port}`;
    io.out(`==> coffer server configuration:\n\n      Storage: ${config.storage.type}\n     Listener: ${server.listeners.map((x) => `${x.address}:${x.port}`).join(', ')}\n\n==> coffer server started! Log data will stream in below:\n`);
    if (server.devKeys) {
      // As `vault server -dev` does: the CLI is logged in as root from here on.
      writeTokenFile(server.devKeys.rootToken);
      io.out(`WARNING! dev mode is enabled! In this mode, coffer runs entirely in-memory
and starts unsealed with a single unseal key. The root token is already
authenticated to the CLI, so you can immediately begin using coffer.

You may need to set the following environment variables:

    $ export COFFER_ADDR='http://${addr}'

The unseal key and root token are displayed below in case you want to
seal/unseal the server or re-authenticate.

Unseal Key: ${server.devKeys.unsealKey}
Root Token: ${server.devKeys.rootToken}

Development mode should NOT be used in production installations!
`);
    }
    // SIGHUP, as Vault: read the listeners' certificate files again and reopen the audit files.
    const reload = () => {
      logger.info('reloading', { signal: 'SIGHUP' });
      server.reload().catch((e: unknown) => logger.error('reload failed', { error: e instanceof Error ? e.message : String(e) }));
    };
    process.on('SIGHUP', reload);
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info('shutting down', { signal });
        resolve();
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    process.removeListener('SIGHUP', reload);
    await server.close();
    logger.info('stopped');
    return 0;
  },
});
