import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_OPERATIONS } from '../src/server/example-operations.js';
import { createSandboxHandler } from '../src/server/sandbox.js';
import { startTestApi, type TestApi } from './support/api.js';
import { createBusiness, createCustomer } from './support/builders.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** What the sandbox's fetcher handed GraphiQL for one run: its results, until the first error or `max`. */
interface Run {
  results: Array<{ data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }>;
  ms: number;
}

describe('Sandbox in a real browser: a subscription refused for its token ends at once and says why', () => {
  let browser: Browser;
  let api: TestApi;
  let page: Page;
  let upgrades = 0;
  const pageErrors: string[] = [];
  let businessId: string;
  let customerId: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Expected Chromium at ${CHROMIUM} for the sandbox browser test, found none: apt-get install chromium (.ci/run installs it).`);
    const sandbox = createSandboxHandler({ endpoint: '/graphql', exampleOperations: EXAMPLE_OPERATIONS });
    api = await startTestApi({ routes: [(req, res) => sandbox(req, res)] });
    api.app.httpServer.prependListener('upgrade', () => upgrades++);
    const business = await createBusiness(api.db);
    businessId = business.gid;
    customerId = (await createCustomer(api.db, business)).gid;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(api.app.url);
    await page.waitForFunction(() => 'bookingSandbox' in self);
    // GraphiQL rendered with the fetcher: its schema explorer asked for the schema over it.
    await page.waitForSelector('.graphiql-container');
  });
  afterAll(async () => {
    expect(pageErrors).toEqual([]);
    await browser?.close();
    await api?.close();
  });

  /** Runs an operation through the page's own fetcher, as GraphiQL's run button does. */
  const run = (query: string, headers: Record<string, string>, max = 1): Promise<Run> =>
    page.evaluate(
      async ({ query, headers, max }) => {
        const started = performance.now();
        const fetcher = (self as any).bookingSandbox.fetcher;
        const outcome = fetcher({ query }, { headers });
        const results: any[] = [];
        if (typeof outcome[Symbol.asyncIterator] !== 'function') results.push(await outcome);
        else
          for await (const result of outcome) {
            results.push(result);
            if (result.errors || results.length >= max) break;
          }
        return { results, ms: performance.now() - started };
      },
      { query, headers, max },
    );

  const EVENTS = (id: string) => `subscription Events { bookingEvents(businessId: "${id}") { cursor type } }`;

  it('stops after the 4403 of a subscription without a token: one connection, and the error names the close and the Headers tab', async () => {
    upgrades = 0;
    const { results, ms } = await run(`# a comment: query Catalog\n${EVENTS(businessId)}`, {});
    expect(results).toEqual([
      {
        errors: [
          {
            message: expect.stringMatching(/^The server closed the subscription's connection with 4403 \(Forbidden: no token; .*\)\. Subscriptions need a valid token: put \{"Authorization": "Bearer <token>"\} in the Headers tab .* Not retried/),
            extensions: { closeCode: 4403, closeReason: expect.stringContaining('Forbidden: no token') },
          },
        ],
      },
    ]);
    expect(ms).toBeLessThan(5_000);
    // graphql-ws's default would reconnect five times over about half a minute: give it the first of them.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(upgrades).toBe(1);
  });

  it('stops the same way for a refused token, naming it invalid or expired', async () => {
    upgrades = 0;
    const { results } = await run(EVENTS(businessId), { Authorization: 'Bearer not-a-token' });
    expect(results[0].errors?.[0].extensions).toEqual({ closeCode: 4403, closeReason: 'Forbidden: the token is invalid or expired' });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(upgrades).toBe(1);
  });

  it('shows a subscription refused by the API itself (a customer token) as its GraphQL error', async () => {
    const token = await api.token({ sub: 'c', role: 'customer', business_id: businessId, customer_id: customerId });
    const { results } = await run(EVENTS(businessId), { Authorization: `Bearer ${token}` });
    expect(results).toEqual([{ errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })] }]);
  });

  it('sends queries over HTTP with the Headers tab\'s headers', async () => {
    const token = await api.token({ sub: 'a', role: 'admin' });
    const { results } = await run('query Who { viewer { role } }', { Authorization: `Bearer ${token}` });
    expect(results).toEqual([expect.objectContaining({ data: { viewer: { role: 'ADMIN' } } })]);
  });
});
