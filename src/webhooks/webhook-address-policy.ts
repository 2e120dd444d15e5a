import { lookup as systemLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { WebhookConfig } from '../config.js';

/**
 * Where outbound webhooks may go. Endpoint URLs come from API callers, and the API sends from
 * inside our network: without these rules a staff member could make it POST to the cloud metadata
 * service (169.254.169.254), to Redis or PostgreSQL on localhost, or to any private host, and read
 * from the delivery log whether a port is open. So, unless `allowPrivateNetworks` is set (local
 * development and tests, whose receivers listen on 127.0.0.1), only public unicast addresses are
 * connected to.
 *
 * Checked twice:
 * - at registration (`refusalOfWebhookUrl`), what the URL alone shows: the scheme, a literal IP
 *   address, `localhost`. A host name is not resolved there: what it resolves to can change at any
 *   time after the check (and differ between our servers), so it would prove nothing.
 * - at every attempt, on the address actually connected to: the request's `lookup` resolves the
 *   name, checks every answer and hands the connection one that passed (`guardedLookup`), so there
 *   is no second resolution between the check and the connect for a rebinding DNS server to answer
 *   differently. A literal IP host (never looked up by node:net) is checked the same way first.
 */
export interface WebhookTargetRules {
  /** Also connect to loopback, private, link-local ... addresses (WEBHOOK_ALLOW_PRIVATE_NETWORKS). */
  allowPrivateNetworks: boolean;
  /** Refuse plain http:// (NODE_ENV=production). */
  httpsOnly: boolean;
}

/** Why a URL may not be sent to: a plain http:// URL where https is required, or a host that is not public. */
export type WebhookUrlRefusal = 'https-required' | 'private-address';

/** What the delivery log says about an attempt refused before any connection: no address, no port, no errno. */
export const REFUSAL_ERRORS: Record<WebhookUrlRefusal, string> = {
  'https-required': 'refused: https required',
  'private-address': 'refused: private address',
};

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Every address a host name resolves to; injectable so that tests control DNS. */
export type WebhookResolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** The operating system's resolver (getaddrinfo: /etc/hosts, then DNS), as node:http would use it. */
export const systemResolver: WebhookResolver = (hostname) => systemLookup(hostname, { all: true, verbatim: true });

/** The only block IPv6 global unicast addresses are allocated from; anything else is special or unassigned. */
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');
/** NAT64's well-known prefix: a gateway connects to the IPv4 address in the last 32 bits. */
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96');

/**
 * The IPv4 address an IPv6 address stands for, where the connection really goes to that IPv4
 * address: IPv4-mapped (::ffff:a.b.c.d, connected over IPv4 by the kernel), IPv4-translated
 * (::ffff:0:a.b.c.d, SIIT) and NAT64 (64:ff9b::a.b.c.d). 6to4 and Teredo also embed an IPv4
 * address, but are deprecated relay mechanisms no webhook receiver needs: refused outright.
 */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | null {
  const range = address.range();
  if (range === 'ipv4Mapped' || range === 'rfc6145' || address.match(NAT64_WELL_KNOWN)) {
    return new ipaddr.IPv4(address.toByteArray().slice(12));
  }
  return null;
}

/**
 * The special-purpose range an IP address falls in (`loopback`, `private`, `linkLocal`,
 * `carrierGradeNat`, `multicast`, `reserved` ...), or null for a public unicast address. Only what
 * ipaddr.js calls `unicast` passes, and for IPv6 only inside 2000::/3; an IPv6 form of an IPv4
 * address is judged by that IPv4 address.
 */
export function disallowedRangeOf(address: string): string | null {
  const kind = isIP(address);
  if (kind === 0) return 'not an IP address';
  const parsed = ipaddr.parse(kind === 6 ? withHexTail(address) : address);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    const v4 = embeddedIPv4(v6);
    if (v4) return disallowedV4(v4);
    const range = v6.range();
    if (range !== 'unicast') return range;
    // IPv4-compatible (::a.b.c.d), site-local, unassigned space: nothing a receiver listens on.
    if (!v6.match(GLOBAL_UNICAST_V6)) return 'outside global unicast';
    return null;
  }
  return disallowedV4(parsed as ipaddr.IPv4);
}

/**
 * `::127.0.0.1` as `::7f00:1`: ipaddr.js reads any IPv6 address with a dotted IPv4 tail as
 * IPv4-mapped, but only `::ffff:a.b.c.d` is; the deprecated IPv4-compatible `::a.b.c.d` is not.
 */
function withHexTail(address: string): string {
  const match = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  if (!match) return address;
  const [a, b, c, d] = match.slice(2).map(Number);
  return `${match[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

function disallowedV4(address: ipaddr.IPv4): string | null {
  const range = address.range();
  return range === 'unicast' ? null : range;
}

/** The URL's host (lower case: the parser saw to it) without the brackets of an IPv6 literal. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** `localhost` and its subdomains always mean this machine (RFC 6761), whatever DNS says; so does `localhost.`. */
function isLocalhostName(host: string): boolean {
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  return name === 'localhost' || name.endsWith('.localhost');
}

/**
 * What can be refused from the URL alone (the WHATWG parser has already turned `0x7f000001` and
 * `127.1` into `127.0.0.1`): a scheme other than https (or http outside production), a literal
 * address in a special range, `localhost`. A host name that resolves to a private address passes
 * here and is refused by `guardedLookup` when sending.
 */
export function refusalOfWebhookUrl(url: URL, rules: WebhookTargetRules): WebhookUrlRefusal | null {
  if (url.protocol !== 'https:' && (rules.httpsOnly || url.protocol !== 'http:')) return 'https-required';
  if (rules.allowPrivateNetworks) return null;
  const host = hostOf(url);
  if (isIP(host)) return disallowedRangeOf(host) === null ? null : 'private-address';
  return isLocalhostName(host) ? 'private-address' : null;
}

/** A connection refused by the rules before it was attempted. */
export class RefusedWebhookAddress extends Error {
  readonly code = 'EWEBHOOKREFUSED';
  constructor(readonly hostname: string, readonly address: string, readonly range: string) {
    super(`Refused to connect to ${address} (${range}) for ${hostname}: webhooks are sent to public addresses only.`);
  }
}

type LookupCallback = Parameters<LookupFunction>[2];

/**
 * A `lookup` for node:http / node:https requests: resolves the name once, refuses the connection if
 * any answer is not public (a name with one private answer is either misconfigured or an attack,
 * and happy-eyeballs could pick that one), and hands node:net exactly one checked address, which is
 * the one it connects to. Answers in the asked family only, when node:net asks for one.
 */
export function guardedLookup(resolve: WebhookResolver, rules: WebhookTargetRules): LookupFunction {
  return (hostname, options, callback: LookupCallback) => {
    const settle = (error: NodeJS.ErrnoException | null, chosen?: ResolvedAddress) => {
      if (error || !chosen) callback(error ?? notFound(hostname), options.all ? [] : '', 0);
      else if (options.all) callback(null, [chosen]);
      else callback(null, chosen.address, chosen.family);
    };
    // Through a promise even if `resolve` throws at once: node:net must get the error by callback.
    Promise.resolve(hostname).then(resolve).then(
      (answers) => {
        let chosen: ResolvedAddress | undefined;
        let refusal: RefusedWebhookAddress | null = null;
        for (const answer of answers) {
          const range = rules.allowPrivateNetworks ? null : disallowedRangeOf(answer.address);
          if (range !== null) {
            refusal = new RefusedWebhookAddress(hostname, answer.address, range);
            break;
          }
          if (!chosen && familyMatches(answer.family, options.family)) chosen = answer;
        }
        settle(refusal, chosen);
      },
      (error: NodeJS.ErrnoException) => settle(error),
    );
  };
}

function familyMatches(family: number, asked: number | string | undefined): boolean {
  if (asked === undefined || asked === 0) return true;
  return family === (asked === 'IPv4' ? 4 : asked === 'IPv6' ? 6 : asked);
}

function notFound(hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`Expected ${hostname} to resolve to an address, got none.`), { code: 'ENOTFOUND' });
}

/** The rules of a process's webhook settings; without any (an app that sends none), the defaults: no private networks. */
export function webhookTargetRulesOf(config: Pick<WebhookConfig, 'allowPrivateNetworks' | 'httpsOnly'> | undefined): WebhookTargetRules {
  return { allowPrivateNetworks: config?.allowPrivateNetworks ?? false, httpsOnly: config?.httpsOnly ?? false };
}

/** What registration says about a refused URL (`URL_NOT_ALLOWED`). */
export function refusalMessage(refusal: WebhookUrlRefusal, url: URL): string {
  if (refusal === 'https-required') return `Expected an https:// URL (plain http is refused in production), got "${url.href.slice(0, 200)}".`;
  return `Expected a URL whose host is public, got "${url.hostname}": webhooks are never sent to loopback, private, link-local or other special-purpose addresses.`;
}
