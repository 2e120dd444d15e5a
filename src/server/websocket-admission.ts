import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import { clientAddress, CloseCodeTooManyConnections, type RateLimits } from './rate-limits.js';

/**
 * Lets the HTTP server's WebSocket upgrades on `path` through the `websocketConnections` bucket
 * (per client IP) before graphql-ws sees them. Over the limit the upgrade completes and the socket
 * is closed at once with CloseCodeTooManyConnections (4430) and a reason naming the wait: a browser
 * cannot read the status of a refused upgrade, but it can read a close code. Such a socket never
 * reaches graphql-ws, so it runs no `connection_init`, token check or subscription.
 *
 * The WebSocketServer must be made with `noServer: true`. Returns a function that stops admitting.
 */
export function admitWebSocketUpgrades(options: { httpServer: Server; wss: WebSocketServer; path: string; rateLimits: RateLimits }): () => void {
  const { httpServer, wss, path, rateLimits } = options;
  const onUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A client that goes away while its verdict is awaited must not crash the process.
    socket.on('error', () => socket.destroy());
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    if ((queryAt === -1 ? url : url.slice(0, queryAt)) !== path) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      return;
    }
    const verdict = await rateLimits.consumeOne('websocketConnections', clientAddress(req, rateLimits.config.trustProxy));
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (verdict.allowed) wss.emit('connection', ws, req);
      else ws.close(CloseCodeTooManyConnections, `Too many connections: retry after ${verdict.retryAfterSeconds} s`);
    });
  };
  httpServer.on('upgrade', onUpgrade);
  return () => void httpServer.off('upgrade', onUpgrade);
}
