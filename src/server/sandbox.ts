import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { CloseCode } from 'graphql-ws';
import { acceptsCoding, ContentCoding } from './compression.js';

export interface SandboxOptions {
  /** Absolute path of the GraphQL endpoint, e.g. '/graphql'. */
  endpoint: string;
  /** GraphQL document with several named operations, shown as the default query. */
  exampleOperations: string;
  /** JSON text shown in the headers pane, e.g. an Authorization bearer token. */
  defaultHeaders?: string;
}

const TITLE = 'Booking API sandbox';
const GRAPHIQL_PACKAGE = '@graphql-yoga/graphiql';
/** Its browser build is the sandbox's subscription client (graphql-ws's own, with our retry rules). */
const GRAPHQL_WS_PACKAGE = 'graphql-ws';
const ASSET_PREFIX = '/sandbox/';
// Asset URLs carry the package version, so browsers may cache them forever.
const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** Public asset name -> file in its package's directory. Only these names are ever served. */
const ASSETS = new Map<string, { packageName: string; file: string; type: string }>([
  ['graphiql.js', { packageName: GRAPHIQL_PACKAGE, file: 'dist/yoga-graphiql.umd.js', type: JS }],
  ['graphiql.css', { packageName: GRAPHIQL_PACKAGE, file: 'dist/graphiql.css', type: CSS }],
  ['editor.worker.js', { packageName: GRAPHIQL_PACKAGE, file: 'dist/monacoeditorwork/editor.worker.bundle.js', type: JS }],
  ['json.worker.js', { packageName: GRAPHIQL_PACKAGE, file: 'dist/monacoeditorwork/json.worker.bundle.js', type: JS }],
  // The double dot is the real file name emitted by the package's build.
  ['graphql.worker.js', { packageName: GRAPHIQL_PACKAGE, file: 'dist/monacoeditorwork/graphql.worker..bundle.js', type: JS }],
  ['graphql-ws.js', { packageName: GRAPHQL_WS_PACKAGE, file: 'umd/graphql-ws.min.js', type: JS }],
]);

/**
 * Close codes after which the sandbox's subscription client stops instead of reconnecting:
 * 4403 is this API's answer to a missing, refused or expired token, and 4401 a subscribe before
 * the init ack; retrying either only repeats the refusal (graphql-ws retries 4403 by default, and
 * the IDE span through its attempts with nothing shown). graphql-ws never retries its own fatal
 * codes (4400, 4406, 4409, 4429, 4500) anyway.
 */
export const SANDBOX_FINAL_CLOSE_CODES = [CloseCode.Unauthorized, CloseCode.Forbidden];

const gzipAsync = promisify(gzip);

/** True when the request is a browser asking for a page (GET, Accept includes text/html, no `query` param). */
export function wantsSandbox(req: IncomingMessage): boolean {
  return (
    req.method === 'GET' &&
    (req.headers.accept ?? '').includes('text/html') &&
    !new URL(req.url ?? '/', 'http://localhost').searchParams.has('query')
  );
}

/** Handles GET <endpoint> (HTML page) and GET <endpoint>/sandbox/<asset>. Returns true if it handled the request. */
export function createSandboxHandler(options: SandboxOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { endpoint } = options;
  if (!endpoint.startsWith('/') || endpoint.endsWith('/')) {
    throw new Error(`SandboxOptions.endpoint must be an absolute path without trailing slash such as "/graphql", got "${endpoint}"`);
  }
  // The packages only export package.json and their entry points, so locate files through package.json.
  const require = createRequire(import.meta.url);
  const packages = new Map(
    [GRAPHIQL_PACKAGE, GRAPHQL_WS_PACKAGE].map((name) => {
      const packageJsonPath = require.resolve(`${name}/package.json`);
      return [name, { dir: dirname(packageJsonPath), version: (require(packageJsonPath) as { version: string }).version }];
    }),
  );
  const assetUrl = (name: string) => `${endpoint}${ASSET_PREFIX}${name}?v=${encodeURIComponent(packages.get(ASSETS.get(name)!.packageName)!.version)}`;
  const html = renderPage(options, assetUrl);
  // Each asset is read (and gzipped) at most once, on first request, and then served from memory.
  const loaded = new Map<string, Promise<{ raw: Buffer; gzipped: Buffer }>>();
  const load = (name: string, file: string) => {
    let asset = loaded.get(name);
    if (!asset) {
      asset = readFile(file).then(async (raw) => ({ raw, gzipped: await gzipAsync(raw) }));
      asset.catch(() => loaded.delete(name)); // let a later request retry a transient read failure
      loaded.set(name, asset);
    }
    return asset;
  };

  return (req, res) => {
    if (req.method !== 'GET') return false;
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (pathname === endpoint) {
      if (!wantsSandbox(req)) return false;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' }).end(html);
      return true;
    }
    if (!pathname.startsWith(endpoint + ASSET_PREFIX)) return false;
    const name = pathname.slice(endpoint.length + ASSET_PREFIX.length);
    const asset = ASSETS.get(name);
    if (!asset) {
      const expected = [...ASSETS.keys()].join(', ');
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`Unknown sandbox asset "${name}"; expected one of: ${expected}`);
      return true;
    }
    const acceptsGzip = acceptsCoding(req.headers['accept-encoding'], ContentCoding.Gzip);
    const file = join(packages.get(asset.packageName)!.dir, asset.file);
    load(name, file).then(
      ({ raw, gzipped }) => {
        const headers = { 'content-type': asset.type, 'cache-control': IMMUTABLE_CACHE, vary: 'accept-encoding' };
        if (acceptsGzip) res.writeHead(200, { ...headers, 'content-encoding': 'gzip' }).end(gzipped);
        else res.writeHead(200, headers).end(raw);
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`Sandbox asset "${name}" should be readable at ${file}: ${String(error)}`);
      },
    );
    return true;
  };
}

/** Embeds a value in an inline <script>; escaping `<` stops `</script>` or `<!--` in user text from ending it. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

/** How often the sandbox reconnects a subscription after a close it may retry (graphql-ws's default). */
const SANDBOX_RETRY_ATTEMPTS = 5;

/**
 * The sandbox's fetcher, run in the browser: queries and mutations POST to the endpoint with the
 * Headers tab's headers; subscriptions open a graphql-ws connection of their own with those headers
 * as the init payload (so a token pasted after page load counts). Yoga's built-in fetcher gives its
 * graphql-ws client no retry rules: after a 4403 it reconnected silently for half a minute and then
 * showed a bare CloseEvent. Here a close in SANDBOX_FINAL_CLOSE_CODES ends the subscription at once,
 * and every close that ends one is shown as an error that names its code and reason. Plain
 * JavaScript in a String.raw (no `${`): the browser runs it as written.
 */
const SANDBOX_CLIENT = String.raw`
function createSandboxFetcher(settings) {
  const httpUrl = new URL(settings.endpoint, location.href).href;
  const wsUrl = httpUrl.replace(/^http/, 'ws');
  const isCloseEvent = (value) => typeof value === 'object' && value !== null && typeof value.code === 'number' && 'reason' in value;

  // The type of the operation that runs (the named one, else the first), read from the document's
  // top level: strings, comments and selection sets are skipped.
  function operationTypeOf(query, operationName) {
    const words = [];
    let depth = 0;
    for (const match of query.matchAll(/"""[\s\S]*?"""|"(?:\\.|[^"\\])*"|#[^\n\r]*|[{}]|[_A-Za-z][_0-9A-Za-z]*/g)) {
      const token = match[0];
      if (token === '{') depth++;
      else if (token === '}') depth--;
      else if (depth === 0 && /^[_A-Za-z]/.test(token)) words.push(token);
    }
    for (let i = 0; i < words.length; i++) {
      if (!['query', 'mutation', 'subscription'].includes(words[i])) continue;
      if (!operationName || words[i + 1] === operationName) return words[i];
    }
    return 'query';
  }

  function describeClose(event) {
    const closed = 'The server closed the subscription\'s connection with ' + event.code + (event.reason ? ' (' + event.reason + ')' : '') + '.';
    if (event.code === 4403) return closed + ' Subscriptions need a valid token: put {"Authorization": "Bearer <token>"} in the Headers tab (npm start prints demo tokens), then run it again. Not retried: the same request would be refused again.';
    if (settings.finalCloseCodes.includes(event.code)) return closed + ' Not retried: the same request would be refused again.';
    return closed + ' Gave up after ' + settings.retryAttempts + ' attempts to reconnect.';
  }

  async function overHttp(params, headers) {
    const response = await fetch(httpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
      body: JSON.stringify(params),
    });
    return response.json();
  }

  // An async iterable of results; its return() (GraphiQL's stop button) closes the connection.
  function overWebSocket(params, headers) {
    const queue = [];
    let wake = null;
    const push = (item) => {
      queue.push(item);
      if (wake) wake();
    };
    const client = graphqlWs.createClient({
      url: wsUrl,
      connectionParams: headers,
      retryAttempts: settings.retryAttempts,
      shouldRetry: (closeOrError) => !(isCloseEvent(closeOrError) && settings.finalCloseCodes.includes(closeOrError.code)),
    });
    const unsubscribe = client.subscribe(params, {
      next: (result) => push({ value: result }),
      error: (error) => {
        if (Array.isArray(error)) push({ value: { errors: error } });
        else if (isCloseEvent(error)) push({ value: { errors: [{ message: describeClose(error), extensions: { closeCode: error.code, closeReason: error.reason } }] } });
        else push({ value: { errors: [{ message: String((error && error.message) || error) }] } });
        push({ done: true });
      },
      complete: () => push({ done: true }),
    });
    const finish = () => {
      unsubscribe();
      client.dispose();
      return { done: true, value: undefined };
    };
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      async next() {
        while (queue.length === 0) await new Promise((resolve) => (wake = resolve));
        wake = null;
        const item = queue.shift();
        return item.done ? finish() : { done: false, value: item.value };
      },
      async return() {
        return finish();
      },
    };
  }

  return (params, options) => {
    const headers = (options && options.headers) || {};
    return operationTypeOf(params.query, params.operationName) === 'subscription' ? overWebSocket(params, headers) : overHttp(params, headers);
  };
}
`;

function renderPage(options: SandboxOptions, assetUrl: (name: string) => string): string {
  const graphiqlOptions = {
    title: TITLE,
    query: options.exampleOperations, // the first tab
    defaultQuery: options.exampleOperations, // tabs the user opens later
    headers: options.defaultHeaders,
  };
  const clientSettings = { endpoint: options.endpoint, finalCloseCodes: SANDBOX_FINAL_CLOSE_CODES, retryAttempts: SANDBOX_RETRY_ATTEMPTS };
  // Monaco labels its workers by language; anything else (e.g. 'editorWorkerService') is the base editor worker.
  const workers = { json: assetUrl('json.worker.js'), graphql: assetUrl('graphql.worker.js'), editor: assetUrl('editor.worker.js') };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${TITLE}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assetUrl('graphiql.css')}">
<style>body { margin: 0; } #sandbox { height: 100vh; }</style>
</head>
<body>
<div id="sandbox"></div>
<script>
  // The bundle ships no worker loader, so tell Monaco where ours are; they are classic (IIFE) scripts.
  {
    const workers = ${scriptJson(workers)};
    self.MonacoEnvironment = { getWorker: (_moduleId, label) => new Worker(workers[label] || workers.editor, { name: label }) };
  }
</script>
<script src="${assetUrl('graphql-ws.js')}"></script>
<script src="${assetUrl('graphiql.js')}"></script>
<script>
${SANDBOX_CLIENT}
  // Subscriptions over WebSocket (graphql-ws) at the same URL, the Headers tab as their init payload.
  self.bookingSandbox = { fetcher: createSandboxFetcher(${scriptJson(clientSettings)}) };
  YogaGraphiQL.renderYogaGraphiQL(document.getElementById('sandbox'), {
    ...${scriptJson(graphiqlOptions)},
    fetcher: self.bookingSandbox.fetcher,
    // The default mirrors every edit into ?query=, and a reload of such a URL would reach the API, not this page.
    onEditQuery() {},
  });
</script>
</body>
</html>
`;
}
