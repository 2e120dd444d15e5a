import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/connect.js';
import { ContentCoding, createBodyWriter, DEFAULT_COMPRESSION_CONFIG, negotiateEncoding } from '../../src/server/compression.js';
import { createSandboxHandler } from '../../src/server/sandbox.js';
import { acceptsCoding } from '../../src/server/compression.js';
import { openTestDatabase } from '../support/database.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { postGraphQL, rawRequest, type RawResponse } from './http-client.js';

/** Tens of KB of JSON without any data to seed. */
const LARGE = '{ __schema { types { name description fields { name description } } } }';
const SMALL = '{ viewer { role } }';

/** An answer's JSON without `extensions.rateLimit`, which counts down from one request to the next. */
function withoutBudget(body: string): unknown {
  const parsed = JSON.parse(body);
  delete parsed.extensions?.rateLimit;
  return parsed;
}

function decoded(res: RawResponse): string {
  const coding = res.headers['content-encoding'];
  if (coding === 'br') return brotliDecompressSync(res.body).toString();
  if (coding === 'gzip') return gunzipSync(res.body).toString();
  expect(coding).toBeUndefined();
  return res.body.toString();
}

describe('Compression: Accept-Encoding is negotiated with its q-values', () => {
  it.each([
    ['gzip, deflate, br, zstd', ContentCoding.Brotli],
    ['gzip, br', ContentCoding.Brotli],
    ['gzip', ContentCoding.Gzip],
    ['GZIP', ContentCoding.Gzip],
    ['x-gzip', ContentCoding.Gzip],
    ['br;q=0, gzip', ContentCoding.Gzip],
    ['gzip;q=0.8, br;q=0.5', ContentCoding.Gzip],
    ['gzip;q=0.5, br;q=0.8', ContentCoding.Brotli],
    ['br; q=0.9, gzip; q=0.9', ContentCoding.Brotli],
    ['*', ContentCoding.Brotli],
    ['*;q=0.5, br;q=0', ContentCoding.Gzip],
    ['gzip;q=0.5', ContentCoding.Gzip],
    ['identity;q=0.4, gzip;q=0.5', ContentCoding.Gzip],
  ])('picks the right coding for "%s"', (header, coding) => {
    expect(negotiateEncoding(header)).toBe(coding);
  });

  it.each([undefined, '', 'identity', 'deflate, zstd', 'gzip;q=0, br;q=0', '*;q=0', 'identity, gzip;q=0.5', 'gzip;q=abc'])('sends "%s" uncompressed', (header) => {
    expect(negotiateEncoding(header)).toBeNull();
  });

  it.each([
    ['gzip', true],
    ['br, gzip;q=0.1', true],
    ['*', true],
    ['gzip;q=0', false],
    ['br', false],
    ['*;q=0', false],
    [undefined, false],
  ] as const)('tells whether "%s" accepts gzip: %s', (header, accepted) => {
    expect(acceptsCoding(header, ContentCoding.Gzip)).toBe(accepted);
  });

  it('reads COMPRESSION and COMPRESSION_MIN_BYTES, defaulting to on above 1 KB', () => {
    expect(loadConfig({}).compression).toEqual({ enabled: true, minBytes: 1024 });
    expect(DEFAULT_COMPRESSION_CONFIG).toEqual({ enabled: true, minBytes: 1024 });
    expect(loadConfig({ COMPRESSION: 'false', COMPRESSION_MIN_BYTES: '4096' }).compression).toEqual({ enabled: false, minBytes: 4096 });
    expect(() => loadConfig({ COMPRESSION_MIN_BYTES: '-1' })).toThrow('Expected COMPRESSION_MIN_BYTES to be an integer from 0 to 1073741824, got "-1".');
  });
});

describe('Compression: GraphQL answers above the threshold are compressed', () => {
  let database: DatabaseHandle;
  let api: TestApi;
  let off: TestApi;
  let identity: string;

  beforeAll(async () => {
    database = await openTestDatabase();
    api = await startTestApi({ database });
    off = await startTestApi({ database, config: { compression: { enabled: false, minBytes: 1024 } } });
    identity = (await postGraphQL(api.app.url, LARGE)).body.toString();
  });
  afterAll(async () => {
    await api?.close();
    await off?.close();
    await database?.close();
  });

  it('sends a large answer brotli-compressed to a client that accepts gzip and br, with its true Content-Length', async () => {
    expect(identity.length).toBeGreaterThan(20_000);
    const res = await postGraphQL(api.app.url, LARGE, { 'accept-encoding': 'gzip, br' });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('br');
    expect(res.headers['content-length']).toBe(String(res.body.length));
    expect(res.headers['transfer-encoding']).toBeUndefined();
    expect(res.body.length).toBeLessThan(identity.length / 4);
    expect(withoutBudget(decoded(res))).toEqual(withoutBudget(identity));
    expect(res.headers.vary).toBe('Origin, Accept-Encoding');
  });

  it('sends gzip to a client that prefers it or knows nothing else', async () => {
    for (const header of ['gzip', 'br;q=0.1, gzip;q=0.9']) {
      const res = await postGraphQL(api.app.url, LARGE, { 'accept-encoding': header });
      expect(res.headers['content-encoding']).toBe('gzip');
      expect(res.headers['content-length']).toBe(String(res.body.length));
      expect(withoutBudget(decoded(res))).toEqual(withoutBudget(identity));
    }
  });

  it('sends a large answer as it is to a client that accepts no coding, still with Vary: Accept-Encoding', async () => {
    const res = await postGraphQL(api.app.url, LARGE);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers.vary).toBe('Origin, Accept-Encoding');
    expect(res.headers['content-length']).toBe(String(res.body.length));
  });

  it('sends small answers and small error answers as they are, without Vary: Accept-Encoding', async () => {
    const small = await postGraphQL(api.app.url, SMALL, { 'accept-encoding': 'gzip, br' });
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(small.headers.vary).toBe('Origin');
    // A validation error: 200 under application/json (GraphQL over HTTP), and small.
    const error = await postGraphQL(api.app.url, '{ nope }', { 'accept-encoding': 'gzip, br' });
    expect(error.status).toBe(200);
    expect(JSON.parse(error.body.toString()).errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(error.headers['content-encoding']).toBeUndefined();
    const badJson = await rawRequest(api.app.url, { method: 'POST', headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip' }, body: '{' });
    expect(badJson.status).toBe(400);
    expect(badJson.headers['content-encoding']).toBeUndefined();
  });

  it('compresses nothing when COMPRESSION=false', async () => {
    const res = await postGraphQL(off.app.url, LARGE, { 'accept-encoding': 'gzip, br' });
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers.vary).toBe('Origin');
    expect(res.body.toString()).toBe(identity);
  });
});

describe('Compression: the body writer on its own', () => {
  let server: Server;
  let url: string;
  const write = createBodyWriter({ enabled: true, minBytes: 100 });
  const body = JSON.stringify({ data: { items: Array.from({ length: 50 }, (_, i) => ({ id: i, name: `Item ${i}` })) } });

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/encoded') res.setHeader('content-encoding', 'gzip');
      write(req, res, req.url === '/short' ? body.slice(0, 99) : body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('leaves a response that already set Content-Encoding alone', async () => {
    const res = await rawRequest(`${url}/encoded`, { headers: { 'accept-encoding': 'br' } });
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.body.toString()).toBe(body);
  });

  it('compresses from COMPRESSION_MIN_BYTES on, and not one byte below', async () => {
    const at = await rawRequest(`${url}/`, { headers: { 'accept-encoding': 'br' } });
    expect(at.headers['content-encoding']).toBe('br');
    expect(decoded(at)).toBe(body);
    const below = await rawRequest(`${url}/short`, { headers: { 'accept-encoding': 'br' } });
    expect(below.headers['content-encoding']).toBeUndefined();
    expect(below.body.toString()).toBe(body.slice(0, 99));
  });
});

describe('Compression: the sandbox\'s assets', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const sandbox = createSandboxHandler({ endpoint: '/graphql', exampleOperations: '{ viewer { role } }' });
    server = createServer((req, res) => void (sandbox(req, res) || res.writeHead(404).end()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql/sandbox/graphiql.css`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('are gzipped for a client that accepts gzip, and sent as they are to one that refuses it with q=0', async () => {
    const gzipped = await rawRequest(base, { headers: { 'accept-encoding': 'gzip' } });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    const refused = await rawRequest(base, { headers: { 'accept-encoding': 'br, gzip;q=0' } });
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(gunzipSync(gzipped.body).equals(refused.body)).toBe(true);
  });
});
