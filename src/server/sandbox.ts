import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
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
const ASSET_PREFIX = '/sandbox/';
// Asset URLs carry the package version, so browsers may cache them forever.
const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** Public asset name -> file in the package's dist dir. Only these names are ever served. */
const ASSETS = new Map<string, { file: string; type: string }>([
  ['graphiql.js', { file: 'yoga-graphiql.umd.js', type: JS }],
  ['graphiql.css', { file: 'graphiql.css', type: CSS }],
  ['editor.worker.js', { file: 'monacoeditorwork/editor.worker.bundle.js', type: JS }],
  ['json.worker.js', { file: 'monacoeditorwork/json.worker.bundle.js', type: JS }],
  // The double dot is the real file name emitted by the package's build.
  ['graphql.worker.js', { file: 'monacoeditorwork/graphql.worker..bundle.js', type: JS }],
]);

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
  // The package only exports package.json and its entry points, so locate dist through package.json.
  const require = createRequire(import.meta.url);
  const packageJsonPath = require.resolve(`${GRAPHIQL_PACKAGE}/package.json`);
  const distDir = join(dirname(packageJsonPath), 'dist');
  const { version } = require(packageJsonPath) as { version: string };
  const assetUrl = (name: string) => `${endpoint}${ASSET_PREFIX}${name}?v=${encodeURIComponent(version)}`;
  const html = renderPage(options, assetUrl);
  // Each asset is read (and gzipped) at most once, on first request, and then served from memory.
  const loaded = new Map<string, Promise<{ raw: Buffer; gzipped: Buffer }>>();
  const load = (name: string, file: string) => {
    let asset = loaded.get(name);
    if (!asset) {
      asset = readFile(join(distDir, file)).then(async (raw) => ({ raw, gzipped: await gzipAsync(raw) }));
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
    load(name, asset.file).then(
      ({ raw, gzipped }) => {
        const headers = { 'content-type': asset.type, 'cache-control': IMMUTABLE_CACHE, vary: 'accept-encoding' };
        if (acceptsGzip) res.writeHead(200, { ...headers, 'content-encoding': 'gzip' }).end(gzipped);
        else res.writeHead(200, headers).end(raw);
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`Sandbox asset "${name}" should be readable from ${distDir}: ${String(error)}`);
      },
    );
    return true;
  };
}

/** Embeds a value in an inline <script>; escaping `<` stops `</script>` or `<!--` in user text from ending it. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

function renderPage(options: SandboxOptions, assetUrl: (name: string) => string): string {
  const graphiqlOptions = {
    endpoint: options.endpoint,
    title: TITLE,
    query: options.exampleOperations, // the first tab
    defaultQuery: options.exampleOperations, // tabs the user opens later
    headers: options.defaultHeaders,
  };
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
<script src="${assetUrl('graphiql.js')}"></script>
<script>
  YogaGraphiQL.renderYogaGraphiQL(document.getElementById('sandbox'), {
    ...${scriptJson(graphiqlOptions)},
    // The default mirrors every edit into ?query=, and a reload of such a URL would reach the API, not this page.
    onEditQuery() {},
    // Subscriptions over WebSocket (graphql-ws) at the same URL; the Headers tab's JSON (its
    // Authorization) becomes the connection's init payload, read when a connection opens.
    subscriptionsProtocol: 'WS',
    connectionParams() {
      try {
        return JSON.parse(localStorage.getItem('graphiql:headers') || ${scriptJson(options.defaultHeaders ?? '{}')}) || {};
      } catch {
        return {};
      }
    },
  });
</script>
</body>
</html>
`;
}
