import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/app.js';
import { statementTagOf } from '../../src/shared/request-telemetry.js';
import { DEVELOPMENT_PAYMENT_WEBHOOK_SECRET } from '../../src/config.js';
import { pinoLogger, type LogLevel } from '../../src/shared/logger.js';
import { SIGNATURE_HEADER } from '../../src/shared/webhook-signature.js';
import { startTestApi, TEST_JWT_SECRET, type TestApi } from '../support/api.js';
import { createBookableBusiness } from '../support/builders.js';
import { deepQuery } from '../../bench/attack-queries.js';
import { bookingScene, deliver, PAYMENT_CREATE, testProviderOf } from '../payments/payment-scene.js';
import { createEndpoint, LOOPBACK_RECEIVERS, Receiver, until } from '../webhooks/webhook-support.js';

type Line = Record<string, unknown> & { level: string; msg: string };

/** The API's real logger writing into memory: the raw text (for grepping) and the parsed lines. */
function capturedLog(level: LogLevel = 'debug') {
  let text = '';
  const log = pinoLogger(level, { write: (chunk: string) => void (text += chunk) });
  return {
    log,
    text: () => text,
    lines: (): Line[] => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line),
  };
}

describe('The logger (pino behind the Logger interface)', () => {
  it("keeps the line's own message when the context has a `message`, `msg` or `level` key", () => {
    const captured = capturedLog();
    captured.log.error('A listener failed', { message: 'boom', msg: 'not the line', level: 'not a level' });
    expect(captured.lines()).toEqual([expect.objectContaining({ level: 'error', msg: 'A listener failed', message: 'boom', _msg: 'not the line', _level: 'not a level' })]);
    expect(captured.text().match(/"msg":/g)).toHaveLength(1);
  });

  it('writes only the levels at or above its own', () => {
    const captured = capturedLog('warn');
    captured.log.debug?.('detail');
    captured.log.info('routine');
    captured.log.warn?.('degraded');
    captured.log.error('broken');
    expect(captured.lines().map((l) => [l.level, l.msg])).toEqual([['warn', 'degraded'], ['error', 'broken']]);
  });

  it('redacts credentials a caller put in a context by mistake, at the top level and in `headers`', () => {
    const captured = capturedLog();
    captured.log.info('oops', { token: 'tok-123', secret: 's3cr3t', headers: { authorization: 'Bearer abc', accept: '*/*' }, endpointId: '7' });
    expect(captured.text()).not.toMatch(/tok-123|Bearer abc|s3cr3t/);
    expect(captured.lines()[0]).toMatchObject({ token: '[redacted]', secret: '[redacted]', headers: { authorization: '[redacted]', accept: '*/*' }, endpointId: '7' });
  });

  it('reads the tag a statement starts with', () => {
    expect(statementTagOf('/* findBusinessesBySlugs */ SELECT 1')).toBe('findBusinessesBySlugs');
    expect(statementTagOf('select "id" from "businesses"')).toBeUndefined();
  });
});

describe('Slow statements', () => {
  it('are logged with their tag, and not while the migrator runs', async () => {
    const captured = capturedLog();
    const database = await openDatabase({ databaseUrl: process.env.DATABASE_URL, poolMax: 2, dataDir: 'memory://', slowQueryMs: 0 }, captured.log);
    try {
      expect(captured.lines().filter((l) => l.msg === 'Slow statement')).toEqual([]);
      await sql`/* findSomeBusinesses */ SELECT id FROM businesses LIMIT 1`.execute(database.db);
      expect(captured.lines().filter((l) => l.msg === 'Slow statement')).toEqual([expect.objectContaining({ level: 'warn', tag: 'findSomeBusinesses', ms: expect.any(Number) })]);
    } finally {
      await database.close();
    }
  }, 120_000);
});

describe('One line per GraphQL request', () => {
  let api: TestApi;
  const captured = capturedLog();
  beforeAll(async () => {
    api = await startTestApi({ log: captured.log });
  });
  afterAll(() => api.close());

  const linesOf = (requestId: string) => captured.lines().filter((l) => l.requestId === requestId);

  it('names the request id, operation, its type, the viewer (not the token), the duration, the status and the document hash', async () => {
    const token = await api.token({ sub: 'staff-log-1', role: 'staff', business_id: 'QnVzaW5lc3M6MQ' });
    const res = await api.gql('query ViewerRole { viewer { role } }', undefined, { token, headers: { 'x-request-id': 'log-test-1' } });
    expect(res.status).toBe(200);
    expect(linesOf('log-test-1')).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'GraphQL operation',
        operationName: 'ViewerRole',
        operationType: 'query',
        viewer: 'staff:staff-log-1',
        ms: expect.any(Number),
        status: 200,
        documentHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      }),
    ]);
    expect(captured.text()).not.toContain(token);
    expect(linesOf('log-test-1')[0].errors).toBeUndefined();
  });

  it("counts the request's own SQL statements on its line", async () => {
    const { statements } = await api.countStatements(() =>
      api.gql('query Page { businesses(first: 3) { nodes { id services(first: 2) { nodes { id } } } } }', undefined, { headers: { 'x-request-id': 'log-test-sql' } }),
    );
    expect(statements).toBeGreaterThan(0);
    expect(linesOf('log-test-sql')).toEqual([expect.objectContaining({ operationName: 'Page', statements })]);
  });

  it('logs a query sent again (answered by the hot path, past Apollo) with the same line as the first time', async () => {
    const query = 'query Repeated { businesses(first: 2) { nodes { id services(first: 2) { nodes { id } } } } }';
    const first = await api.countStatements(() => api.gql(query, undefined, { headers: { 'x-request-id': 'log-test-repeat-1' } }));
    const second = await api.countStatements(() => api.gql(query, undefined, { headers: { 'x-request-id': 'log-test-repeat-2' } }));
    expect(second.statements).toBe(first.statements);
    const [one] = linesOf('log-test-repeat-1');
    expect(linesOf('log-test-repeat-2')).toEqual([
      expect.objectContaining({ msg: 'GraphQL operation', operationName: 'Repeated', operationType: 'query', statements: second.statements, status: 200, documentHash: one.documentHash }),
    ]);
  });

  it("counts the request's availability cache hits and misses on its line", async () => {
    const built = await createBookableBusiness(api.db);
    const query = 'query Slots($b: ID!, $s: ID!, $d: Date!) { availableSlots(businessId: $b, serviceId: $s, date: $d) { startsAt } }';
    const variables = { b: built.business.gid, s: built.service.gid, d: built.start.toISOString().slice(0, 10) };
    await api.gql(query, variables, { headers: { 'x-request-id': 'log-test-cache-1' } });
    await api.gql(query, variables, { headers: { 'x-request-id': 'log-test-cache-2' } });
    expect(linesOf('log-test-cache-1')).toEqual([expect.objectContaining({ cacheHits: 0, cacheMisses: 1 })]);
    expect(linesOf('log-test-cache-2')).toEqual([expect.objectContaining({ cacheHits: 1, cacheMisses: 0 })]);
  });

  it('logs a document refused before Apollo (over a limit whatever its variables) with the same line, at info', async () => {
    const res = await api.gql(`query Deep ${deepQuery('any-slug', 32).replace(/^\s*(query\s*)?/, '')}`, undefined, { headers: { 'x-request-id': 'log-test-early' } });
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(linesOf('log-test-early')).toEqual([expect.objectContaining({ level: 'info', msg: 'GraphQL operation', operationName: null, statements: 0, status: 400, errors: ['QUERY_TOO_COMPLEX'] })]);
    // Not parsed, so the document's own name is not known: the line names what the request's `operationName` gave.
  });

  it('logs client mistakes as codes on the info line, never at error level with a stack', async () => {
    const before = captured.lines().length;
    await api.gql('{ viewer { role', undefined, { headers: { 'x-request-id': 'log-test-parse' } });
    await api.gql('{ nope }', undefined, { headers: { 'x-request-id': 'log-test-validation' } });
    await api.gql('query Q($n: Int!) { businesses(first: $n) { pageInfo { hasNextPage } } }', undefined, { headers: { 'x-request-id': 'log-test-variables' } });
    expect(linesOf('log-test-parse')).toEqual([expect.objectContaining({ level: 'info', errors: ['GRAPHQL_PARSE_FAILED'], status: 400 })]);
    expect(linesOf('log-test-validation')).toEqual([expect.objectContaining({ level: 'info', errors: ['GRAPHQL_VALIDATION_FAILED'] })]);
    expect(linesOf('log-test-variables')).toEqual([expect.objectContaining({ level: 'info', operationName: 'Q', errors: ['BAD_USER_INPUT'] })]);
    const later = captured.lines().slice(before);
    expect(later.filter((l) => l.level === 'error' || 'stack' in l)).toEqual([]);
  });

  it('logs an operation slower than SLOW_OPERATION_MS at warn as "Slow operation", with its document hash', async () => {
    const slow = capturedLog();
    const slowApi = await startTestApi({ database: api.database, log: slow.log, config: { slowOperationMs: 0 } });
    try {
      await slowApi.gql('query Slow { viewer { role } }', undefined, { headers: { 'x-request-id': 'log-test-slow' } });
      expect(slow.lines().filter((l) => l.requestId === 'log-test-slow')).toEqual([
        expect.objectContaining({ level: 'warn', msg: 'Slow operation', operationName: 'Slow', documentHash: expect.stringMatching(/^[0-9a-f]{64}$/) }),
      ]);
    } finally {
      await slowApi.close();
    }
  });
});

/**
 * A full flow with every line logged (operations "slow" from 0 ms, level debug):
 * a booking, a payment, its signed webhook, an outbound webhook to a registered endpoint. None of
 * the secrets that went by may be in the log.
 */
describe('Secrets never reach the log', () => {
  const captured = capturedLog('debug');
  let api: TestApi;
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await new Receiver().start();
    api = await startTestApi({ isolated: true, log: captured.log, config: { slowOperationMs: 0, webhooks: { ...LOOPBACK_RECEIVERS, pollIntervalMs: 50 } } });
  });
  afterAll(async () => {
    await api.close();
    await receiver.close();
  });

  it('logs a booking, its payment, the signed payment webhook and the outbound webhook without a token, secret or signature', async () => {
    const scene = await bookingScene(api, 'pending');
    const target = receiver.endpoint();
    const endpoint = await createEndpoint(api, scene.tokens.staff, { businessId: scene.business.gid, url: target.url, eventTypes: ['BOOKING_CONFIRMED'] });

    // A booking through the API, and a refused one (a user error).
    const created = await api.gql(
      `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } userErrors { code } } }`,
      { input: { customerId: scene.customer.gid, slotIds: [scene.partner.slots[1].gid] } },
      { token: scene.tokens.staff },
    );
    expect(created.data.bookingCreate.userErrors).toEqual([]);
    const refused = await api.gql(`mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } userErrors { code } } }`, { input: { customerId: scene.customer.gid, slotIds: [scene.partner.slots[1].gid] } }, { token: scene.tokens.staff });
    expect(refused.data.bookingCreate.userErrors).not.toEqual([]);

    // The payment of the scene's booking, confirmed by a signed webhook.
    const payment = await api.gql(PAYMENT_CREATE, { input: { bookingId: scene.booking.gid, provider: 'test' } }, { token: scene.tokens.customer });
    const clientSecret: string = payment.data.paymentCreate.clientSecret;
    expect(clientSecret).toBeTruthy();
    const event = testProviderOf(api).signedEvent({ type: 'payment.succeeded', txnId: payment.data.paymentCreate.payment.providerTxnId, amountCents: scene.service.priceCents });
    expect((await deliver(api, event)).status).toBe(200);
    // A forged delivery: refused, and its signature must not be logged either.
    const forged = { ...event, headers: { ...event.headers, [SIGNATURE_HEADER]: 't=1,v1=deadbeefdeadbeefdeadbeef' } };
    expect((await deliver(api, forged)).status).toBe(400);

    // The booking.confirmed event goes out to the endpoint, signed with its secret.
    const sent = await until(() => receiver.at(target.path)[0], 'the outbound webhook');
    const outboundSignature = Object.entries(sent.headers).find(([name]) => name.includes('signature'))?.[1] as string;
    expect(outboundSignature).toBeTruthy();

    // A bad token and a malformed Authorization header.
    await api.gql('{ viewer { role } }', undefined, { token: 'not.a.jwt' });
    await api.gql('{ viewer { role } }', undefined, { headers: { authorization: 'Basic dXNlcjpodW50ZXIy' } });

    const text = captured.text();
    // The log is not empty: every operation (but those refused at their token, before Apollo's
    // request pipeline starts) is in it.
    expect(captured.lines().filter((l) => l.msg === 'Slow operation').length).toBeGreaterThanOrEqual(4);
    const secrets = {
      ...scene.tokens,
      jwtSecret: TEST_JWT_SECRET,
      endpointSecret: endpoint.secret,
      clientSecret,
      paymentWebhookSecret: DEVELOPMENT_PAYMENT_WEBHOOK_SECRET,
      inboundSignature: event.headers[SIGNATURE_HEADER],
      forgedSignature: 'deadbeefdeadbeefdeadbeef',
      outboundSignature,
      basicAuth: 'dXNlcjpodW50ZXIy',
      badToken: 'not.a.jwt',
    };
    for (const [name, secret] of Object.entries(secrets)) {
      expect(secret, name).toBeTruthy();
      expect(text.includes(secret as string), `${name} is in the log`).toBe(false);
    }
  }, 60_000);
});
