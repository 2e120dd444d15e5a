import { expect } from 'vitest';
import { startApp, type App, type AppConfig, type Route } from '../../src/app.js';
import { signDevelopmentToken, type TokenClaims } from '../../src/auth/tokens.js';
import type { Logger } from '../../src/shared/logger.js';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { DatabaseHandle } from '../../src/db/connect.js';
import { openIsolatedTestDatabase, openTestDatabase } from './database.js';

export const TEST_JWT_SECRET = 'test-secret-for-the-test-suite-only';

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: Array<{ message: string; path?: string[]; extensions?: { code?: string } & Record<string, unknown> }>;
}

/** Errors the server logged; a test can assert that an unexpected error was logged with context. */
export const loggedErrors: Array<{ message: string; context?: Record<string, unknown> }> = [];
const testLogger: Logger = { info() {}, error: (message, context) => void loggedErrors.push({ message, context }) };

export interface TestApi {
  app: App;
  db: DatabaseHandle['db'];
  database: DatabaseHandle;
  /** Sends an operation over real HTTP, as a client would. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, options?: { token?: string; headers?: Record<string, string> }): Promise<GraphQLResponse<T>>;
  /** The statements sent to the database while `work` ran (run it alone: the count is per process). */
  countStatements<T>(work: () => Promise<T>): Promise<{ result: T; statements: number }>;
  token(claims: TokenClaims): Promise<string>;
  /** The body of GET /metrics (at app.metricsUrl: the public port, or METRICS_PORT's). */
  metricsText(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts the API on its own test database (one of this file alone with `isolated`, see
 * openIsolatedTestDatabase), or on `options.database` (a second app over the same database plays a
 * second API process); `config` overrides the app's settings; `routes` are served before the API's own (the sandbox); `log` replaces the logger that keeps only errors; `clock` is the notifications' time.
 */
export async function startTestApi(options: { config?: Partial<AppConfig>; database?: DatabaseHandle; isolated?: boolean; routes?: Route[]; log?: Logger; spanExporter?: SpanExporter; clock?: () => Date } = {}): Promise<TestApi> {
  const ownDatabase = !options.database;
  const database = options.database ?? (options.isolated ? await openIsolatedTestDatabase() : await openTestDatabase());
  const app = await startApp(
    { host: '127.0.0.1', port: 0, auth: { jwtSecret: TEST_JWT_SECRET, jwksUrl: undefined, issuer: undefined, audience: undefined }, slowQueryMs: 60_000, ...options.config },
    database,
    { log: options.log ?? testLogger, routes: options.routes, spanExporter: options.spanExporter, clock: options.clock },
  );
  return {
    app,
    db: database.db,
    database,
    async gql(query, variables, options) {
      const res = await fetch(app.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(options?.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...options?.headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as GraphQLResponse;
      return { ...body, status: res.status };
    },
    async countStatements(work) {
      const before = database.statementCount();
      const result = await work();
      return { result, statements: database.statementCount() - before };
    },
    token: (claims) => signDevelopmentToken(TEST_JWT_SECRET, claims),
    async metricsText() {
      const res = await fetch(app.metricsUrl);
      expect(res.status).toBe(200);
      return res.text();
    },
    async close() {
      await app.stop();
      if (ownDatabase) await database.close();
    },
  };
}

/** Tokens for the usual roles of a built business. */
export async function tokensFor(api: TestApi, ids: { businessGid: string; partnerGid?: string; customerGid?: string }) {
  return {
    admin: await api.token({ sub: 'admin-1', role: 'admin' }),
    staff: await api.token({ sub: 'staff-1', role: 'staff', business_id: ids.businessGid }),
    partner: ids.partnerGid ? await api.token({ sub: 'partner-1', role: 'partner', business_id: ids.businessGid, partner_id: ids.partnerGid }) : undefined,
    customer: ids.customerGid ? await api.token({ sub: 'customer-1', role: 'customer', business_id: ids.businessGid, customer_id: ids.customerGid }) : undefined,
  };
}

/** Runs a mutation that must succeed (no top-level errors, no user errors) and returns its payload. */
export async function mutateOk(api: TestApi, mutation: string, input: Record<string, unknown>, token: string | undefined): Promise<any> {
  const res = await api.gql(mutation, { input }, { token });
  expect(res.errors).toBeUndefined();
  const payload = Object.values(res.data as Record<string, any>)[0];
  expect(payload.userErrors).toEqual([]);
  return payload;
}
