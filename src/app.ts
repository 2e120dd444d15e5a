import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { TokenVerifier } from './auth/tokens.js';
import type { Config } from './config.js';
import { connectDatabase, type DatabaseHandle } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import { resolverMaps } from './resolvers.js';
import { ChangeFeed } from './shared/change-feed.js';
import { createRequestContext, type AppServices, type Logger, type RequestContext } from './server/context.js';
import { createErrorFormatter } from './server/errors.js';
import { GRAPHQL_PATH, graphqlHandler, sendError } from './server/http.js';
import { jitGateway } from './server/jit-executor.js';
import { buildExecutableSchema } from './server/schema.js';

export const consoleLogger: Logger = {
  info: (message, context) => console.log(JSON.stringify({ level: 'info', time: new Date().toISOString(), message, ...context })),
  error: (message, context) => console.error(JSON.stringify({ level: 'error', time: new Date().toISOString(), message, ...context })),
};

export interface App {
  database: DatabaseHandle;
  httpServer: Server;
  url: string;
  stop(): Promise<void>;
}

export type AppConfig = Pick<Config, 'host' | 'port' | 'auth' | 'slowQueryMs'>;

/** Extra HTTP routes (the sandbox, webhooks) tried before the 404. */
export type Route = (req: IncomingMessage, res: ServerResponse, path: string) => boolean | Promise<boolean>;

/**
 * Starts the API on a migrated database: GraphQL over HTTP at /graphql, health at /healthz.
 * Tests start it on port 0 and stop it when done; index.ts adds the configuration, the embedded
 * database and signal handling.
 */
export async function startApp(config: AppConfig, database: DatabaseHandle, options: { log?: Logger; routes?: Route[] } = {}): Promise<App> {
  const log = options.log ?? consoleLogger;
  const changes = new ChangeFeed((error, change) =>
    log.error('A listener failed on a committed change', { action: change.action, message: (error as Error).message, stack: (error as Error).stack }),
  );
  const services: AppServices = { db: database.db, log, changes };
  const schema = buildExecutableSchema(resolverMaps);
  const verifier = new TokenVerifier(config.auth);

  const apollo = new ApolloServer<RequestContext>({
    gateway: jitGateway(schema),
    formatError: createErrorFormatter(log),
    includeStacktraceInErrorResponses: false,
    // Cache-control hints are not used; its default plugin wraps every field resolver.
    plugins: [ApolloServerPluginCacheControlDisabled(), ApolloServerPluginLandingPageDisabled(), ApolloServerPluginUsageReportingDisabled()],
    introspection: true,
    logger: { debug() {}, info() {}, warn: (m) => log.info(String(m)), error: (m) => log.error(String(m)) },
  });
  await apollo.start();

  const handleGraphQL = graphqlHandler(apollo, async (req) =>
    createRequestContext(services, await verifier.viewerFor(req.headers.authorization)),
  );
  const routes = options.routes ?? [];

  const httpServer = createServer(async (req, res) => {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    try {
      if (path === GRAPHQL_PATH && !routes.length) return await handleGraphQL(req, res, queryAt === -1 ? '' : url.slice(queryAt + 1));
      for (const route of routes) if (await route(req, res, path)) return;
      if (path === GRAPHQL_PATH) return await handleGraphQL(req, res, queryAt === -1 ? '' : url.slice(queryAt + 1));
      if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`No route for ${path}; the API is at ${GRAPHQL_PATH}.`);
    } catch (error) {
      if (sendError(res, error)) return;
      log.error('Unexpected error while handling an HTTP request', { path, message: (error as Error).message, stack: (error as Error).stack });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('Internal server error.');
    }
  });
  httpServer.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => httpServer.listen(config.port, config.host, resolve));
  const { port } = httpServer.address() as AddressInfo;

  return {
    database,
    httpServer,
    url: `http://${config.host}:${port}${GRAPHQL_PATH}`,
    async stop() {
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeIdleConnections();
      });
      await apollo.stop();
    },
  };
}

/** Connects to PostgreSQL (or opens the embedded database) and brings its schema up to date. */
export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'poolMax' | 'dataDir' | 'slowQueryMs'>, log: Logger = consoleLogger) {
  const database = await connectDatabase({
    databaseUrl: config.databaseUrl,
    poolMax: config.poolMax,
    dataDir: config.dataDir,
    onStatement: (event) => {
      if (event.queryDurationMillis >= config.slowQueryMs) {
        log.info('Slow statement', { ms: Math.round(event.queryDurationMillis), sql: event.query.sql.slice(0, 200) });
      }
    },
  });
  await migrateToLatest(database.db);
  return database;
}
