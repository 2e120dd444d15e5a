import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A second local HTTP server: another port is another origin. It serves one empty page. */
async function startPageServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>client</title>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

interface FetchOutcome {
  ok: boolean;
  status?: number;
  body?: any;
  requestId?: string | null;
  internal?: string | null;
  error?: string;
}

describe('CORS in a real browser: a page on another origin calls the API', () => {
  let browser: Browser;
  let api: TestApi;
  let allowed: { server: Server; origin: string };
  let refused: { server: Server; origin: string };
  let token: string;
  /** What reached the API, as the API saw it. */
  const arrived: Array<{ method: string; origin: string | undefined }> = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Expected Chromium at ${CHROMIUM} for the cross-origin browser test, found none: apt-get install chromium (.ci/run installs it).`);
    }
    allowed = await startPageServer();
    refused = await startPageServer();
    api = await startTestApi({ config: { cors: { origins: [allowed.origin], allowCredentials: false, maxAgeSeconds: 600 } } });
    // Stand-ins for headers other layers set: one CORS exposes (the request id), one it does not.
    let next = 0;
    api.app.httpServer.prependListener('request', (req, res) => {
      arrived.push({ method: req.method ?? '', origin: req.headers.origin });
      res.setHeader('x-request-id', `req-${++next}`);
      res.setHeader('x-internal', 'hidden');
    });
    token = await api.token({ sub: 'admin-1', role: 'admin' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    for (const page of [allowed, refused]) page?.server.close();
  });

  /** Opens the page of `origin` and runs a JSON POST with a bearer token from it. */
  async function fetchFrom(origin: string, query: string) {
    const page = await browser.newPage();
    const encodings: string[] = [];
    page.on('response', (response) => {
      if (response.url() === api.app.url && response.request().method() === 'POST') encodings.push(response.headers()['content-encoding'] ?? 'identity');
    });
    await page.goto(`${origin}/`);
    const outcome: FetchOutcome = await page.evaluate(
      async ({ url, token, query }) => {
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify({ query }),
          });
          return { ok: true, status: res.status, body: await res.json(), requestId: res.headers.get('x-request-id'), internal: res.headers.get('x-internal') };
        } catch (error) {
          return { ok: false, error: String(error) };
        }
      },
      { url: api.app.url, token, query },
    );
    await page.close();
    return { outcome, encodings };
  }

  it('lets a page of the listed origin read the answer and the exposed X-Request-Id, but no other header', async () => {
    arrived.length = 0;
    const { outcome } = await fetchFrom(allowed.origin, '{ viewer { role } }');
    expect(outcome).toMatchObject({ ok: true, status: 200, body: { data: { viewer: { role: 'ADMIN' } } }, internal: null });
    // Readable at all only because it is exposed (whichever layer sets it once request ids exist).
    expect(outcome.requestId).toEqual(expect.any(String));
    // The bearer token made the request non-simple: the browser asked first.
    expect(arrived).toEqual([
      { method: 'OPTIONS', origin: allowed.origin },
      { method: 'POST', origin: allowed.origin },
    ]);
  });

  it('fails the fetch of a page of an unlisted origin, and its POST never reaches the API', async () => {
    arrived.length = 0;
    const { outcome } = await fetchFrom(refused.origin, '{ viewer { role } }');
    expect(outcome.ok).toBe(false);
    expect(outcome.error).toContain('Failed to fetch');
    expect(arrived).toEqual([{ method: 'OPTIONS', origin: refused.origin }]);
  });

  it('hands the page a large answer brotli-compressed, which the browser decodes', async () => {
    const { outcome, encodings } = await fetchFrom(allowed.origin, '{ __schema { types { name description fields { name description } } } }');
    expect(outcome.ok).toBe(true);
    expect(outcome.body.data.__schema.types.length).toBeGreaterThan(50);
    expect(encodings).toEqual(['br']);
  });
});
