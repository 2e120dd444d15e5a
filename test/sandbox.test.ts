import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, validate, type OperationDefinitionNode } from 'graphql';
import { resolverMaps } from '../src/resolvers.js';
import { EXAMPLE_OPERATIONS } from '../src/server/example-operations.js';
import { createSandboxHandler } from '../src/server/sandbox.js';
import { buildExecutableSchema } from '../src/server/schema.js';

const OPERATIONS = 'query Catalog { business(slug: "north-end-barbers") { name } }';

describe('Sandbox: a GraphQL IDE served by the API itself, offline', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const sandbox = createSandboxHandler({ endpoint: '/graphql', exampleOperations: OPERATIONS });
    server = createServer((req, res) => {
      if (!sandbox(req, res)) res.writeHead(418).end('not the sandbox');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const page = () => fetch(`${base}/graphql`, { headers: { accept: 'text/html' } });

  it('answers a browser at the endpoint with the IDE page and its example operations', async () => {
    const res = await page();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('<title>Booking API sandbox</title>');
    expect(html).toContain('query Catalog');
  });

  it('runs subscriptions over WebSocket at the same URL, with the Headers tab as the init payload and no retry after 4401 or 4403', async () => {
    const html = await (await page()).text();
    expect(html).toContain('fetcher: self.bookingSandbox.fetcher');
    expect(html).toContain('connectionParams: headers');
    expect(html).toContain('"finalCloseCodes":[4401,4403]');
    // What it does in a browser: test/sandbox-browser.test.ts.
  });

  it('opens with example operations that are all valid against the schema, a subscription among them', () => {
    const document = parse(EXAMPLE_OPERATIONS);
    expect(validate(buildExecutableSchema(resolverMaps), document)).toEqual([]);
    const kinds = document.definitions.map((d) => (d as OperationDefinitionNode).operation);
    expect(kinds).toContain('subscription');
  });

  it('serves every asset the page references, from this server, with its content type', async () => {
    const html = await (await page()).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/graphql\/sandbox\/[^"]+)"/g), ...html.matchAll(/"(\/graphql\/sandbox\/[^"]+\.worker\.js[^"]*)"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThanOrEqual(5);
    for (const asset of new Set(assets)) {
      const res = await fetch(base + asset);
      expect(res.status, asset).toBe(200);
      expect(res.headers.get('content-type'), asset).toMatch(asset.includes('.css') ? /text\/css/ : /javascript/);
      expect((await res.arrayBuffer()).byteLength, asset).toBeGreaterThan(1000);
    }
  });

  it('refers to no other host, so it works without internet access', async () => {
    const html = await (await page()).text();
    expect(html.match(/(?:src|href)="(?:https?:)?\/\//g)).toBeNull();
  });

  it('leaves API requests alone: a POST, a GET with a query, or a client asking for JSON', async () => {
    expect((await fetch(`${base}/graphql`, { method: 'POST', body: '{}' })).status).toBe(418);
    expect((await fetch(`${base}/graphql?query={__typename}`, { headers: { accept: 'text/html' } })).status).toBe(418);
    expect((await fetch(`${base}/graphql`, { headers: { accept: 'application/json' } })).status).toBe(418);
  });

  it('serves only its known assets: no other file and no path outside the bundle', async () => {
    expect((await fetch(`${base}/graphql/sandbox/unknown.js`)).status).toBe(404);
    expect((await fetch(`${base}/graphql/sandbox/..%2Fpackage.json`)).status).toBe(404);
  });
});
