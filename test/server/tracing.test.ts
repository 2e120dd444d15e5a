import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CACHE_CONFIG } from '../../src/cache/create-cache.js';
import { loadConfig } from '../../src/config.js';
import { DEFAULT_TRACING_CONFIG, Tracing } from '../../src/server/tracing.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { createBooking } from '../support/builders.js';
import { bookedScene } from '../support/scenes.js';

const BUSINESS_PAGE = `query BusinessPage($slug: String!) {
  business(slug: $slug) { name bookings(first: 10) { nodes { id startsAt service { name } partner { name } customer { name } } } }
}`;

const childrenOf = (spans: ReadableSpan[], parent: ReadableSpan) => spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);

describe('Traces of a request', () => {
  const exporter = new InMemorySpanExporter();
  let api: TestApi;
  let scene: Awaited<ReturnType<typeof bookedScene>>;
  beforeAll(async () => {
    // Without the catalog cache: every statement of the page is there to be traced, on every request.
    api = await startTestApi({ spanExporter: exporter, config: { cache: { ...DEFAULT_CACHE_CONFIG, catalogTtlSeconds: 0 } } });
    scene = await bookedScene(api);
    // A second booking of the other partner: the page resolves its references in batches of two.
    const partner = scene.partners[1];
    await createBooking(api.db, { business: scene.business, service: scene.service, partner, customer: scene.customer, slots: partner.slots.slice(4, 6) });
  });
  afterAll(() => api.close());
  beforeEach(() => exporter.reset());

  it('traces a query sent again (answered by the hot path, past Apollo) as the first: request > operation > its statements', async () => {
    await api.gql(BUSINESS_PAGE, { slug: scene.business.slug }, { token: scene.tokens.admin });
    exporter.reset();
    const { result, statements } = await api.countStatements(() => api.gql(BUSINESS_PAGE, { slug: scene.business.slug }, { token: scene.tokens.admin }));
    expect(result.errors).toBeUndefined();
    const spans = exporter.getFinishedSpans();
    const [request] = spans.filter((s) => s.kind === SpanKind.SERVER);
    const operations = childrenOf(spans, request);
    expect(operations.map((s) => s.name)).toEqual(['query BusinessPage']);
    expect(childrenOf(spans, operations[0])).toHaveLength(statements);
  });

  it('nests a nested page as request > operation > one span per SQL statement, named by its tag', async () => {
    const { result, statements } = await api.countStatements(() => api.gql(BUSINESS_PAGE, { slug: scene.business.slug }, { token: scene.tokens.admin }));
    expect(result.errors).toBeUndefined();
    expect(result.data.business.bookings.nodes).toHaveLength(2);
    const spans = exporter.getFinishedSpans();

    const requests = spans.filter((s) => s.kind === SpanKind.SERVER);
    expect(requests.map((s) => s.name)).toEqual(['POST /graphql']);
    const [request] = requests;
    expect(request.parentSpanContext).toBeUndefined();
    expect(request.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/graphql', 'http.response.status_code': 200 });

    const operations = childrenOf(spans, request);
    expect(operations.map((s) => s.name)).toEqual(['query BusinessPage']);
    const [operation] = operations;
    expect(operation.attributes).toMatchObject({ 'graphql.operation.type': 'query', 'graphql.operation.name': 'BusinessPage' });

    const sql = childrenOf(spans, operation);
    expect(sql).toHaveLength(statements);
    expect(spans).toHaveLength(2 + statements);
    expect(sql.every((s) => s.kind === SpanKind.CLIENT && s.attributes['db.system.name'] === 'postgresql')).toBe(true);
    expect(sql.map((s) => s.name)).toEqual(sql.map((s) => s.attributes['db.query.summary']));
    expect(sql.map((s) => s.name)).toEqual(expect.arrayContaining(['findBusinessesBySlugs', 'findServicesByIds', 'findPartnersByIds', 'findCustomersByIds']));
    // Each statement's span lies within its operation's, and the operation's within the request's.
    const ms = (time: [number, number]) => time[0] * 1000 + time[1] / 1e6;
    for (const span of sql) {
      expect(ms(span.startTime)).toBeGreaterThanOrEqual(ms(operation.startTime) - 1);
      expect(ms(span.endTime)).toBeLessThanOrEqual(ms(operation.endTime) + 1);
    }
    expect(ms(operation.endTime)).toBeLessThanOrEqual(ms(request.endTime));
  });

  it("continues the caller's trace from its traceparent header", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await api.gql('{ __typename }', undefined, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    const [request] = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
    expect(request.spanContext().traceId).toBe(traceId);
    expect(request.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
  });

  it('names a request to no route by its method alone, without an http.route', async () => {
    expect((await fetch(new URL('/no/such/path', api.app.url))).status).toBe(404);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['GET']);
    expect(spans[0].attributes['http.route']).toBeUndefined();
    expect(spans[0].attributes['http.response.status_code']).toBe(404);
  });

  it('marks an operation whose answer has errors, with the first code', async () => {
    await api.gql('{ noSuchField }');
    const operation = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.INTERNAL);
    expect(operation?.status).toMatchObject({ code: 2, message: 'GRAPHQL_VALIDATION_FAILED' });
  });
});

describe('Tracing off', () => {
  it('makes no tracer without OTEL_EXPORTER_OTLP_ENDPOINT (and the app no span)', async () => {
    expect(loadConfig({}).tracing.otlpEndpoint).toBeUndefined();
    expect(Tracing.create(DEFAULT_TRACING_CONFIG)).toBeNull();
  });

  it('refuses an endpoint that is no http(s) URL', () => {
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(
      'Expected OTEL_EXPORTER_OTLP_ENDPOINT to be an http(s) URL such as http://collector:4318, got "collector:4318".',
    );
  });
});

describe('Export over OTLP/HTTP', () => {
  let collector: Server;
  const received: Array<{ path: string; contentType: string; bytes: number }> = [];
  beforeAll(async () => {
    collector = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (chunk: Buffer) => (bytes += chunk.length));
      req.on('end', () => {
        received.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', bytes });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => collector.close(() => resolve())));

  it('sends the spans to <endpoint>/v1/traces, at the latest when the app stops', async () => {
    const { port } = collector.address() as AddressInfo;
    const api = await startTestApi({ config: { tracing: { otlpEndpoint: `http://127.0.0.1:${port}/`, serviceName: 'booking-api-test' } } });
    try {
      expect((await api.gql('{ __typename }')).data).toEqual({ __typename: 'Query' });
    } finally {
      await api.close();
    }
    expect(received.length).toBeGreaterThanOrEqual(1);
    expect(received[0]).toMatchObject({ path: '/v1/traces' });
    expect(received[0].bytes).toBeGreaterThan(0);
  });
});
