/**
 * How many bookingEvents subscribers one API process holds, and how fast an event reaches them.
 *
 * Starts the API as `npm start` does (PostgreSQL from DATABASE_URL, Redis from REDIS_URL), opens
 * SUBSCRIBERS WebSocket connections from this process (raw graphql-transport-ws, one staff
 * subscription each, all to one business: every event goes to every subscriber, the worst case for
 * fan-out), then sends EVENTS mutations one after another and times each from the moment it is sent
 * until its event reached the first subscriber and all of them. Prints the server's resident memory.
 *   npx tsx bench/subscribers.ts            # SUBSCRIBERS=1000,5000,10000 EVENTS=20
 * The clients share the machine with the server: "all received" includes this process parsing every
 * copy, so it is an upper bound.
 */
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { connectDatabase } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { signDevelopmentToken } from '../src/auth/tokens.js';
import { startApiProcess } from '../test/support/api-process.js';
import { TEST_JWT_SECRET } from '../test/support/api.js';
import { createBookableBusiness } from '../test/support/builders.js';
import { rssMb } from './suite/processes.js';

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/booking_api_bench';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const sizes = (process.env.SUBSCRIBERS ?? '1000,5000,10000').split(',').map(Number);
const eventCount = Number(process.env.EVENTS ?? 20);

const SUBSCRIPTION = `subscription($b: ID!) { bookingEvents(businessId: $b) { cursor type booking { id status customer { name } service { name } } } }`;
const CREATE = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } userErrors { code message } } }`;
const CANCEL = `mutation($input: BookingCancelInput!) { bookingCancel(input: $input) { booking { id } userErrors { code message } } }`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** The API a fan-out measurement runs against: its own (`npm run bench:subscribers`) or the suite's. */
export interface FanOutApi {
  url: string;
  wsUrl: string;
  pid: number;
  metric(name: string): Promise<number>;
}

export interface FanOutResult {
  subscribers: number;
  connectSeconds: number;
  rssMb: number;
  /** Mutation sent -> its event at the first subscriber, and at all of them, per event (ms). */
  firstMs: number[];
  allMs: number[];
  /** Deliveries (events x subscribers) per second of the events' round trips. */
  deliveriesPerSecond: number;
}

/**
 * Opens `sizes` subscriptions in steps (all to one new business: every event goes to every
 * subscriber), sends `events` mutations one after another at each step and times each from the
 * moment it is sent until its event reached the first subscriber and all of them. `token` may
 * subscribe to the business and book for it (staff of it, or an admin).
 */
export async function measureFanOut(options: { api: FanOutApi; databaseUrl: string; sizes: number[]; events: number; token?: (businessGid: string) => Promise<string>; log?: (line: string) => void }): Promise<FanOutResult[]> {
  const { api, sizes } = options;
  const eventCount = options.events;
  const log = options.log ?? console.log;
  const database = await connectDatabase({ databaseUrl: options.databaseUrl, poolMax: 4 });
  await migrateToLatest(database.db);
  const built = await createBookableBusiness(database.db, { partners: 1, slotCount: 2, durationMinutes: 30 });
  await database.close();
  const staff = await (options.token ?? ((gid) => signDevelopmentToken(TEST_JWT_SECRET, { sub: 'bench', role: 'staff', business_id: gid })))(built.business.gid);
  const gql = async (query: string, input: unknown) => {
    const res = await fetch(api.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${staff}` }, body: JSON.stringify({ query, variables: { input } }) });
    const body = (await res.json()) as any;
    const payload = Object.values(body.data ?? {})[0] as any;
    if (body.errors || payload.userErrors.length) throw new Error(JSON.stringify(body));
    return payload;
  };
  log(`API process ${api.pid}: ${rssMb(api.pid)} MB resident before any connection`);

  const sockets: WebSocket[] = [];
  /** cursor -> arrival times, per event */
  const arrivals = new Map<string, number[]>();
  let pendingBooking: string | null = null;
  /** Called with an event's arrival times once `target` subscribers have it (no busy waiting: the clients share the CPUs). */
  let target = 0;
  let reached: ((times: number[]) => void) | null = null;

  function connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(api.wsUrl, 'graphql-transport-ws');
      ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${staff}` } })));
      ws.on('message', (data) => {
        const message = JSON.parse(data.toString());
        if (message.type === 'connection_ack') {
          ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIPTION, variables: { b: built.business.gid } } }));
          resolve();
        } else if (message.type === 'next') {
          const cursor = message.payload.data.bookingEvents.cursor;
          let times = arrivals.get(cursor);
          if (!times) arrivals.set(cursor, (times = []));
          times.push(performance.now());
          if (times.length === target) reached?.(times);
        } else if (message.type === 'error') reject(new Error(JSON.stringify(message)));
      });
      ws.on('error', reject);
      sockets.push(ws);
    });
  }

  const results: FanOutResult[] = [];
  for (const size of sizes) {
    const started = performance.now();
    while (sockets.length < size) await Promise.all(Array.from({ length: Math.min(200, size - sockets.length) }, connect));
    while ((await api.metric('booking_event_subscribers')) < size) await new Promise((r) => setTimeout(r, 50));
    const connectMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, 1000));
    const rss = rssMb(api.pid);

    const first: number[] = [];
    const all: number[] = [];
    for (let i = 0; i < eventCount; i++) {
      arrivals.clear();
      target = size;
      const all_ = new Promise<number[]>((resolve, reject) => {
        reached = resolve;
        setTimeout(() => reject(new Error(`Event ${i} reached ${Math.max(0, ...[...arrivals.values()].map((t) => t.length))} of ${size} subscribers in 60 s.`)), 60_000).unref();
      });
      const sent = performance.now();
      if (pendingBooking) {
        await gql(CANCEL, { bookingId: pendingBooking });
        pendingBooking = null;
      } else {
        pendingBooking = (await gql(CREATE, { customerId: built.customer.gid, slotIds: [built.partners[0].slots[0].gid] })).booking.id;
      }
      const times = await all_;
      first.push(Math.min(...times) - sent);
      all.push(Math.max(...times) - sent);
    }
    const line = `${size} subscribers: connected in ${(connectMs / 1000).toFixed(1)} s, server ${rss} MB resident (${((rss * 1024) / size).toFixed(0)} KB each incl. baseline); ` +
      `mutation sent -> event at first subscriber median ${median(first).toFixed(1)} ms, at all ${size} median ${median(all).toFixed(1)} ms (max ${Math.max(...all).toFixed(1)}) over ${eventCount} events`;
    log(line);
    const spent = all.reduce((a, b) => a + b, 0) / 1000;
    results.push({ subscribers: size, connectSeconds: connectMs / 1000, rssMb: rss, firstMs: first, allMs: all, deliveriesPerSecond: (size * eventCount) / spent });
  }
  for (const ws of sockets) ws.terminate();
  return results;
}

async function main() {
  // Every connection comes from this one address: a connection budget it never spends.
  const api = await startApiProcess({ DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: `bench-subs-${Date.now()}:`, NODE_ENV: 'production', AUTH_ACCEPT_CLAIM_TOKENS: 'true', AUTH_JWT_SECRET: TEST_JWT_SECRET, WS_KEEPALIVE_MS: '30000', RATE_LIMIT_WS_CONNECTIONS_POINTS: '100000000' });
  try {
    await measureFanOut({ api: { url: api.url, wsUrl: api.wsUrl, pid: api.child.pid!, metric: api.metric }, databaseUrl, sizes, events: eventCount });
  } finally {
    await api.stop();
  }
}

// Run as a script (npm run bench:subscribers), not when the suite imports it.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main().catch((error) => {
  console.error(error);
  process.exit(1);
});
