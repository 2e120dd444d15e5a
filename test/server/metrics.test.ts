import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { BoundedLabels, MAX_OPERATION_NAMES, OTHER_LABEL } from '../../src/server/metrics.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { bookedScene } from '../support/scenes.js';
import { openTestDatabase } from '../support/database.js';
import { sampleValue, samplesOf } from './metrics-text.js';

/** A business's page of bookings with every reference resolved: the nested page the benchmark reads. */
const BUSINESS_PAGE = `query BusinessPage($slug: String!) {
  business(slug: $slug) { name bookings(first: 10) { nodes { id startsAt service { name } partner { name } customer { name } } } }
}`;

describe('GET /metrics', () => {
  let api: TestApi;
  let scene: Awaited<ReturnType<typeof bookedScene>>;
  beforeAll(async () => {
    api = await startTestApi();
    scene = await bookedScene(api);
  });
  afterAll(() => api.close());

  it('observes each operation by name and type, with the SQL statements it sent', async () => {
    const before = await api.metricsText();
    const labels = { operation: 'BusinessPage', type: 'query' };
    const { result, statements } = await api.countStatements(() => api.gql(BUSINESS_PAGE, { slug: scene.business.slug }, { token: scene.tokens.admin }));
    expect(result.errors).toBeUndefined();
    expect(result.data.business.bookings.nodes).toHaveLength(1);
    expect(statements).toBeGreaterThan(1);
    const after = await api.metricsText();
    const delta = (name: string) => (sampleValue(after, name, labels) ?? 0) - (sampleValue(before, name, labels) ?? 0);
    expect(delta('graphql_operation_duration_seconds_count')).toBe(1);
    expect(delta('graphql_operation_duration_seconds_sum')).toBeGreaterThan(0);
    expect(delta('graphql_operation_sql_statements_count')).toBe(1);
    expect(delta('graphql_operation_sql_statements_sum')).toBe(statements);
  });

  it('observes a query sent again (answered by the hot path, past Apollo) as the first', async () => {
    const labels = { operation: 'BusinessPage', type: 'query' };
    await api.gql(BUSINESS_PAGE, { slug: scene.business.slug }, { token: scene.tokens.admin });
    const before = await api.metricsText();
    const { statements } = await api.countStatements(() => api.gql(BUSINESS_PAGE, { slug: scene.business.slug }, { token: scene.tokens.admin }));
    const after = await api.metricsText();
    const delta = (name: string) => (sampleValue(after, name, labels) ?? 0) - (sampleValue(before, name, labels) ?? 0);
    expect(delta('graphql_operation_duration_seconds_count')).toBe(1);
    expect(delta('graphql_operation_sql_statements_sum')).toBe(statements);
  });

  it('observes HTTP requests by route, method and status, whatever path a client tries', async () => {
    await api.gql('{ __typename }');
    await fetch(new URL('/no/such/path', api.app.url));
    await fetch(new URL('/another/one', api.app.url));
    const text = await api.metricsText();
    expect(sampleValue(text, 'http_request_duration_seconds_count', { route: 'graphql', method: 'POST', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(text, 'http_request_duration_seconds_count', { route: 'other', method: 'GET', status: '404' })).toBe(2);
    const routes = new Set(samplesOf(text).filter((s) => s.name === 'http_request_duration_seconds_count').map((s) => s.labels.route));
    expect([...routes].every((route) => ['graphql', 'metrics', 'healthz', 'readyz', 'webhooks', 'other'].includes(route))).toBe(true);
  });

  it('folds unnamed operations into "anonymous" and documents that name no operation into "unknown"', async () => {
    await api.gql('{ __typename }');
    await api.gql('query Named { __typename }');
    const failed = await api.gql('query Broken { noSuchField }');
    expect(failed.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const text = await api.metricsText();
    expect(sampleValue(text, 'graphql_operation_duration_seconds_count', { operation: 'anonymous', type: 'query' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(text, 'graphql_operation_duration_seconds_count', { operation: 'Named', type: 'query' })).toBe(1);
    expect(sampleValue(text, 'graphql_operation_duration_seconds_count', { operation: 'unknown', type: 'unknown' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(text, 'graphql_operation_duration_seconds_count', { operation: 'Broken' })).toBeUndefined();
  });

  it('counts the errors of GraphQL answers by code', async () => {
    const before = sampleValue(await api.metricsText(), 'graphql_errors_total', { code: 'GRAPHQL_VALIDATION_FAILED' }) ?? 0;
    await api.gql('{ noSuchField }');
    await api.gql('{ alsoMissing }');
    expect(sampleValue(await api.metricsText(), 'graphql_errors_total', { code: 'GRAPHQL_VALIDATION_FAILED' })).toBe(before + 2);
  });

  it('observes DataLoader batch sizes by loader, without the arguments in its name', async () => {
    await api.gql(BUSINESS_PAGE, { slug: scene.business.slug }, { token: scene.tokens.admin });
    const loaders = samplesOf(await api.metricsText()).filter((s) => s.name === 'dataloader_batch_size_count');
    const names = loaders.map((s) => s.labels.loader);
    expect(names).toContain('ServiceById');
    expect(names).toContain('PartnerById');
    expect(names.every((name) => !name.includes(':'))).toBe(true);
  });

  it('keeps the counters it served before prom-client, and adds cache hit ratios', async () => {
    const text = await api.metricsText();
    for (const name of ['booking_events_published_total', 'booking_events_publish_failures_total', 'booking_events_delivered_total', 'booking_events_caught_up_total', 'booking_events_duplicates_total']) {
      expect(text).toContain(`# TYPE ${name} counter`);
      expect(sampleValue(text, name)).toBeGreaterThanOrEqual(0);
    }
    for (const name of ['booking_events_position', 'booking_event_subscribers', 'websocket_connections']) expect(text).toContain(`# TYPE ${name} gauge`);
    expect(sampleValue(text, 'cache_store_up', { backend: 'memory' })).toBe(1);
    expect(text).toContain('# TYPE cache_hit_ratio gauge');
  });

  it('reads the outbox lag and the webhook backlog from the database at scrape time', async () => {
    const text = await api.metricsText();
    expect(sampleValue(text, 'booking_outbox_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(sampleValue(text, 'webhook_deliveries_due')).toBeGreaterThanOrEqual(0);
  });

  it('serves event-loop lag and GC pauses from the default collectors', async () => {
    const text = await api.metricsText();
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    expect(text).toContain('# TYPE nodejs_gc_duration_seconds histogram');
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
  });

  it('serves the pool connections by state on PostgreSQL (the embedded database has no pool)', async () => {
    const text = await api.metricsText();
    if (api.database.backend === 'pglite') {
      expect(samplesOf(text).filter((s) => s.name === 'db_pool_connections')).toEqual([]);
      return;
    }
    expect(sampleValue(text, 'db_pool_connections', { pool: 'primary', state: 'total' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(text, 'db_pool_connections', { pool: 'primary', state: 'idle' })).toBeGreaterThanOrEqual(0);
    // The scrape's own reads (outbox lag, webhook backlog) may be queued for a connection meanwhile.
    expect(sampleValue(text, 'db_pool_connections', { pool: 'primary', state: 'waiting' })).toBeGreaterThanOrEqual(0);
  });
});

describe('Metrics of several apps in one process', () => {
  it('keeps each app in its own registry', async () => {
    const database = await openTestDatabase();
    const first = await startTestApi({ database });
    const second = await startTestApi({ database });
    try {
      await first.gql('query OnlyOnTheFirst { __typename }');
      expect(sampleValue(await first.metricsText(), 'graphql_operation_duration_seconds_count', { operation: 'OnlyOnTheFirst' })).toBe(1);
      expect(sampleValue(await second.metricsText(), 'graphql_operation_duration_seconds_count', { operation: 'OnlyOnTheFirst' })).toBeUndefined();
    } finally {
      await first.close();
      await second.close();
      await database.close();
    }
  });
});

describe('METRICS_PORT', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ config: { metricsPort: 0 } });
  });
  afterAll(() => api.close());

  it('serves GET /metrics on its own port and not on the public one', async () => {
    expect(new URL(api.app.metricsUrl).port).not.toBe(new URL(api.app.url).port);
    expect(await api.metricsText()).toContain('# TYPE http_request_duration_seconds histogram');
    const onPublic = await fetch(new URL('/metrics', api.app.url));
    expect(onPublic.status).toBe(404);
    expect((await fetch(new URL('/graphql', api.app.metricsUrl))).status).toBe(404);
  });

  it('is read from the environment, and refused when it is no port', () => {
    expect(loadConfig({ METRICS_PORT: '9464' }).metricsPort).toBe(9464);
    expect(loadConfig({}).metricsPort).toBeUndefined();
    expect(() => loadConfig({ METRICS_PORT: 'nine' })).toThrow('Expected METRICS_PORT to be an integer from 1 to 65535, got "nine".');
  });
});

describe('BoundedLabels', () => {
  it(`keeps the first ${MAX_OPERATION_NAMES} names and counts every later one as "${OTHER_LABEL}"`, () => {
    const names = new BoundedLabels(MAX_OPERATION_NAMES);
    for (let i = 0; i < MAX_OPERATION_NAMES; i++) expect(names.of(`Operation${i}`)).toBe(`Operation${i}`);
    expect(names.of('OneTooMany')).toBe(OTHER_LABEL);
    expect(names.of('Operation7')).toBe('Operation7');
  });
});
