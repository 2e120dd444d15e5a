import { request as httpRequest, type Agent } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { guardedLookup, hostOf, refusalOfWebhookUrl, type WebhookResolver, type WebhookTargetRules, type WebhookUrlRefusal } from './webhook-address-policy.js';

export interface WebhookPost {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Aborts the request (the dispatcher stopping, or its timeout). */
  signal: AbortSignal;
  rules: WebhookTargetRules;
  resolve: WebhookResolver;
  /** Opens the connections (tests observe them through it); by default a fresh one per request. */
  agent?: Agent;
}

/** An answer's status, or why the request was refused before any connection. */
export type WebhookPostResult = { kind: 'answered'; statusCode: number } | { kind: 'refused'; reason: WebhookUrlRefusal };

/**
 * POSTs one webhook through node:http(s) rather than fetch, because only there can the connection
 * be given its address (see guardedLookup). Resolves at the status line: the body is not needed and
 * the connection is dropped; rejects when there is no answer (refused or failed connection, TLS,
 * abort). Redirects are never followed: a 3xx is just an answer. No agent keeps connections open
 * by default, so every attempt resolves and checks its address again.
 */
export function postWebhook(post: WebhookPost): Promise<WebhookPostResult> {
  const url = new URL(post.url);
  const refusal = refusalOfWebhookUrl(url, post.rules);
  if (refusal) return Promise.resolve({ kind: 'refused', reason: refusal });
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send({
      protocol: url.protocol,
      // A literal IP is connected to without a lookup; refusalOfWebhookUrl has checked it.
      hostname: hostOf(url),
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers: { ...post.headers, 'content-length': String(Buffer.byteLength(post.body)) },
      lookup: guardedLookup(post.resolve, post.rules),
      agent: post.agent ?? false,
      signal: post.signal,
    });
    // Also after the answer: destroying the response must not leave an 'error' without a listener.
    req.on('error', reject);
    req.on('response', (res) => {
      resolve({ kind: 'answered', statusCode: res.statusCode ?? 0 });
      res.destroy();
    });
    req.end(post.body);
  });
}
