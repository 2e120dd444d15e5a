/**
 * npm run bench -- [--database-url URL] [--scenarios a,b] [--duration S] [--connections N] [--rate R]
 *                  [--mix-seconds S] [--soak-minutes M] [--soak-rate R] [--subscribers N] [--label L]
 *                  [--rounds N] [--against URL [--against-label L]] [--repeat N]
 *
 * The benchmark suite. Starts the API as a deployment runs it (the production build; BENCH_START=tsx: as `npm start` does), with PostgreSQL and Redis, and the raw
 * baseline, runs the scenarios one after another, stops both, and writes bench/results/<stamp>.json,
 * .md and .svg (README, "Benchmarks", says what each scenario does). Without --database-url it uses
 * a database of its own, `booking_api_bench_suite`, loaded by seed:large (10,000 bookings, 20
 * businesses, 21 days of slots) when it is empty or its slots have run out. With one (a seed:large
 * data set), it takes its businesses, services, customers, free slots and bookings from it. Writes
 * are undone where they can be: every booking the suite makes is cancelled before it exits.
 * With --against, a second data set gets a second API process, and each scenario runs on one and
 * then the other (the order swapped every --repeat), so a shared machine's drifting load hits both.
 * Every flag has an environment variable, BENCH_ and its name (BENCH_DATABASE_URL, BENCH_MIX_SECONDS...);
 * also BENCH_PG (the server of the suite's own database), REDIS_URL, PG_POOL_MAX.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { Redis } from 'ioredis';
import pg from 'pg';
import { signDevelopmentToken } from '../src/auth/tokens.js';
import { seedLarge } from '../scripts/seed-large.js';
import { measureFanOut } from './subscribers.js';
import { readDataset, type Dataset, type FreeSlot } from './suite/dataset.js';
import { closedLoop, closedLoopWith, graphqlClassify, latencyOf, openLoop, refusalsAllowed, rounds, wrkRate, type Classify, type Job, type LoadResult, type Target } from './suite/load.js';
import { cpuMs, rssMb, startApi, startRawBaseline, type ApiProcess } from './suite/processes.js';
import { comparisonMarkdown, median, resultMarkdown, resultSvg, type Latency, type RssSample, type ScenarioResult, type SuiteResult } from './suite/report.js';

const ALL_SCENARIOS = ['nested', 'dashboard', 'availability-warm', 'availability-cold', 'booking-create', 'booking-create-contended', 'mixed', 'booking-cancel', 'fanout', 'soak'] as const;
type ScenarioName = (typeof ALL_SCENARIOS)[number];
const SECRET = 'bench-secret';
const PG = process.env.BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432';
const OWN_DATABASE = 'booking_api_bench_suite';

function parseOptions(argv: string[], env: NodeJS.ProcessEnv) {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`Expected a --flag, got "${arg}".`);
    const [name, inline] = arg.slice(2).split('=', 2);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`Expected a value after --${name}, got the end of the arguments.`);
    flags.set(name, value);
  }
  const known = ['against', 'against-label', 'repeat', 'database-url', 'scenarios', 'duration', 'connections', 'rate', 'mix-seconds', 'soak-minutes', 'soak-rate', 'subscribers', 'label', 'rounds'];
  for (const name of flags.keys()) if (!known.includes(name)) throw new Error(`Unknown flag --${name}; expected one of ${known.map((k) => `--${k}`).join(', ')}.`);
  const get = (name: string) => flags.get(name) ?? env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
  const num = (name: string, fallback: number, min: number) => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`Expected --${name} to be a number of at least ${min}, got "${raw}".`);
    return n;
  };
  const scenarios = (get('scenarios') ?? ALL_SCENARIOS.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of scenarios) if (!(ALL_SCENARIOS as readonly string[]).includes(s)) throw new Error(`Unknown scenario "${s}"; expected some of ${ALL_SCENARIOS.join(', ')}.`);
  return {
    databaseUrl: get('database-url'),
    scenarios: new Set(scenarios as ScenarioName[]),
    duration: num('duration', 10, 1),
    connections: num('connections', 10, 1),
    rate: num('rate', 500, 1),
    mixSeconds: num('mix-seconds', 30, 1),
    soakMinutes: num('soak-minutes', 2, 0.1),
    soakRate: num('soak-rate', num('rate', 500, 1), 1),
    subscribers: num('subscribers', 1000, 1),
    rounds: num('rounds', 3, 1),
    label: get('label') ?? '',
    against: get('against'),
    againstLabel: get('against-label') ?? 'large',
    repeat: num('repeat', 1, 1),
  };
}
type Options = ReturnType<typeof parseOptions>;

const NESTED = `query NestedPage { businesses(first: 20) { nodes { name bookings(first: 10) { nodes { id startsAt status service { name } partner { name } customer { name } } } } } }`;
const DASHBOARD = `query StaffDashboard($slug: String!, $from: DateTime!) { business(slug: $slug) { name bookings(first: 50, filter: { from: $from }) { nodes { id startsAt endsAt status totalCents customer { name email } partner { name } service { name durationMinutes } payments { id amountCents status } } pageInfo { hasNextPage endCursor } } } }`;
const AVAILABILITY = `query AvailableSlots($b: ID!, $s: ID!, $d: Date!) { availableSlots(businessId: $b, serviceId: $s, date: $d) { startsAt endsAt partners { id name } } }`;
const CATALOG = `query Catalog($slug: String!) { business(slug: $slug) { id name city timeZone services { nodes { id name durationMinutes priceCents } } partners(first: 20, activeOnly: true) { nodes { id name } } } }`;
const NODE = `query BookingNode($id: ID!) { node(id: $id) { id ... on Booking { status startsAt endsAt service { name } partner { name } customer { name } } } }`;
const CREATE = `mutation BookingCreate($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id status startsAt } userErrors { field message code } } }`;
const CANCEL = `mutation BookingCancel($input: BookingCancelInput!) { bookingCancel(input: $input) { booking { id status } userErrors { field message code } } }`;

const body = (query: string, variables?: Record<string, unknown>) => JSON.stringify(variables ? { query, variables } : { query });
const bookingIdOf = (answer: string) => /"bookingCreate":\{"booking":\{"id":"([^"]+)"/.exec(answer)?.[1] ?? null;
const createBody = (slot: FreeSlot) => body(CREATE, { input: { serviceId: slot.serviceGid, slotIds: [slot.gid], customerId: slot.customerGid } });
const cancelBody = (bookingId: string) => body(CANCEL, { input: { bookingId, reason: 'benchmark' } });
const withoutCredentials = (url: string) => url.replace(/\/\/[^@/]*@/, '//');

async function ensureOwnDatabase(): Promise<string> {
  const url = `${PG}/${OWN_DATABASE}`;
  const admin = new pg.Client({ connectionString: `${PG}/postgres` });
  await admin.connect();
  const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [OWN_DATABASE])).rowCount;
  if (!exists) await admin.query(`CREATE DATABASE ${OWN_DATABASE}`);
  await admin.end();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let fresh = false;
  try {
    const r = await client.query(`SELECT count(*)::int AS n FROM partner_slots WHERE status = 'available' AND slot_start > now() + interval '3 days'`);
    fresh = r.rows[0].n >= 2000;
  } catch {
    // not migrated yet
  }
  await client.end();
  if (!fresh) {
    console.log(`[bench] loading ${OWN_DATABASE}: 10,000 bookings, 20 businesses, 21 days of slots`);
    await seedLarge({ databaseUrl: url, bookings: 10_000, businesses: 20, partners: 50, customers: 2_000, days: 21, reset: true, log: () => {} });
  }
  return url;
}

/** Samples the API's RSS every `everyMs` while `run` runs; the peak, and the samples. */
async function sampled<T>(pid: number, everyMs: number, run: () => Promise<T>): Promise<{ value: T; peak: number; samples: RssSample[] }> {
  const started = performance.now();
  const samples: RssSample[] = [];
  const take = () => samples.push({ seconds: Math.round((performance.now() - started) / 100) / 10, rssMb: rssMb(pid), loadAverage1: os.loadavg()[0] });
  take();
  const timer = setInterval(take, everyMs);
  try {
    const value = await run();
    take();
    return { value, peak: Math.max(...samples.map((s) => s.rssMb)), samples };
  } finally {
    clearInterval(timer);
  }
}

const settle = () => new Promise((r) => setTimeout(r, 500));

class Suite {
  readonly results: ScenarioResult[] = [];
  /** Bookings the suite made and has not cancelled yet. */
  readonly created: string[] = [];
  private slotCursor = 0;

  constructor(
    readonly options: Options,
    readonly api: ApiProcess & { databaseUrl: string },
    readonly target: Target,
    readonly data: Dataset,
  ) {}

  /** Free slots no scenario has used yet. */
  takeSlots(n: number): FreeSlot[] {
    const slots = this.data.freeSlots.slice(this.slotCursor, this.slotCursor + n);
    this.slotCursor += slots.length;
    return slots;
  }

  /** Runs one measured scenario: RSS sampled, the request log's tallies taken, the result kept and printed. */
  async measure(name: string, description: string, run: () => Promise<LoadResult & { latency?: Latency; rate?: number; dropped?: number; extra?: Record<string, number | string> }>): Promise<ScenarioResult> {
    const start = os.loadavg();
    this.api.takeTallies();
    const cpuBefore = cpuMs(this.api.pid);
    const { value, peak } = await sampled(this.api.pid, 500, run);
    const cpu = cpuMs(this.api.pid) - cpuBefore;
    await settle();
    const operations = this.api.takeTallies();
    const counted = Object.values(operations).reduce((a, t) => ({ n: a.n + t.count, s: a.s + t.count * t.statementsPerOp }), { n: 0, s: 0 });
    const requests = value.ok + value.errors + value.refused;
    const result: ScenarioResult = {
      name,
      description,
      requests,
      durationSeconds: Math.round(value.seconds * 10) / 10,
      requestsPerSecond: value.rate ?? requests / value.seconds,
      latencyMs: value.latency ?? latencyOf(value.latencies),
      errors: value.errors,
      ...(value.refused ? { refused: value.refused } : {}),
      statementsPerOp: counted.n ? counted.s / counted.n : null,
      operations,
      // Per request the API saw: those the open loop never sent (too many in flight) cost it nothing.
      ...(requests - (value.dropped ?? 0) > 0 && name !== 'fanout' ? { apiCpuMsPerRequest: cpu / (requests - (value.dropped ?? 0)) } : {}),
      peakRssMb: peak,
      loadAverage: { start, end: os.loadavg() },
      ...(value.extra ? { extra: value.extra } : {}),
    };
    this.results.push(result);
    const l = result.latencyMs;
    console.log(`[bench] ${this.tag ? `${this.tag} ` : ''}${name}: ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${l.p50.toFixed(1)} p95 ${l.p95.toFixed(1)} p99 ${l.p99.toFixed(1)} ms, ${result.errors} errors${result.refused ? ` (+${result.refused} refused)` : ''}, ${result.statementsPerOp?.toFixed(2) ?? '-'} SQL/op, ${result.apiCpuMsPerRequest?.toFixed(2) ?? '-'} API CPU ms/req, peak RSS ${peak} MB, load ${start[0].toFixed(1)}`);
    if (value.samples.length) console.log(`[bench]   first errors: ${value.samples.join(' | ')}`);
    return result;
  }

  availabilityCombos(): { businessId: string; body: string }[] {
    const combos: { businessId: string; body: string }[] = [];
    for (const d of this.data.dates) for (const b of this.data.businesses) for (const s of b.services) combos.push({ businessId: b.id, body: body(AVAILABILITY, { b: b.gid, s, d }) });
    if (!combos.length) throw new Error('Expected dates ahead with free slots and active services, found none: the data set\'s slots have run out (seed it again).');
    return combos;
  }

  /** The mixed workload's request i: 60% availability, 15% catalog, 15% dashboard, 5% node, 5% writes (a booking made, then cancelled). */
  mixedJobs(): () => Job {
    const combos = this.availabilityCombos();
    const { businesses, bookingGids } = this.data;
    const from = new Date(Date.now() - 14 * 86_400_000).toISOString();
    // Twenty slots a cycle, spread: 12 availability, 3 catalog, 3 dashboard, 1 node, 1 write.
    const pattern = 'AACADAANAACADAWAACAD'.split('');
    const pool = this.takeSlots(400).map((slot) => ({ slot, booking: null as string | null, busy: false }));
    const classify = refusalsAllowed('SLOT_UNAVAILABLE', 'INVALID_TRANSITION');
    this.mixedPools.push(() => pool.flatMap((e) => (e.booking ? [e.booking] : [])));
    let i = 0, w = 0;
    return () => {
      const n = i++;
      const kind = pattern[n % pattern.length];
      const k = Math.floor(n / pattern.length);
      if (kind === 'A') return { body: combos[(n * 7) % combos.length].body, classify: graphqlClassify };
      if (kind === 'C') return { body: body(CATALOG, { slug: businesses[k % businesses.length].slug }), classify: graphqlClassify };
      if (kind === 'D') return { body: body(DASHBOARD, { slug: businesses[(k + 3) % businesses.length].slug, from }), classify: graphqlClassify };
      if (kind === 'N' || !pool.length) return { body: body(NODE, { id: bookingGids[k % bookingGids.length] }), classify: graphqlClassify };
      // A write: the next idle slot of the pool is booked, or its booking cancelled (the slot is free again).
      let entry = pool[w++ % pool.length];
      for (let tries = 0; entry.busy && tries < pool.length; tries++) entry = pool[w++ % pool.length];
      entry.busy = true;
      const cancelling = entry.booking;
      return {
        body: cancelling ? cancelBody(cancelling) : createBody(entry.slot),
        classify,
        after: (_status, answer) => {
          entry.busy = false;
          if (cancelling) {
            if (answer.includes('"status":"CANCELLED"')) entry.booking = null;
          } else entry.booking = bookingIdOf(answer);
        },
      };
    };
  }

  /** Bookings still live in the mixed pool, for the cancellation at the end. */
  private mixedPools: (() => string[])[] = [];

  /** The baseline ratio and the soak's curve, for the result file. */
  readonly extra: Partial<SuiteResult> = {};

  /** Starts a repetition of the scenarios: the bookings of the last one cancelled, its slots free to use again. */
  async beginRepetition() {
    await this.cleanUp();
    this.slotCursor = 0;
  }

  async runScenario(name: ScenarioName): Promise<void> {
    const o = this.options;
    const has = (s: ScenarioName) => name === s;
    const { businesses } = this.data;

    if (has('nested')) {
      const b = (await this.nested())!;
      const before = this.extra.rawBaseline;
      // Repetitions add their rounds.
      if (before) for (const k of ['api', 'raw', 'ratios'] as const) b[k] = [...before[k], ...b[k]];
      this.extra.rawBaseline = { ...b, medianRatio: median(b.ratios) };
    }

    if (has('dashboard')) {
      const from = new Date(Date.now() - 14 * 86_400_000).toISOString();
      let i = 0;
      await this.measure('dashboard', `staff dashboard: a business's 50 bookings from 14 days ago with customer, partner, service and payments, ${businesses.length} businesses in turn, ${o.connections} connections`, () =>
        closedLoop(this.target, { connections: o.connections, seconds: o.duration, classify: graphqlClassify, nextBody: () => body(DASHBOARD, { slug: businesses[i++ % businesses.length].slug, from }) }),
      );
    }

    if (has('availability-warm')) {
      const combos = this.availabilityCombos();
      // One pass fills the cache; the measured requests ask the same questions again.
      let j = 0;
      await closedLoopWith(this.target, { connections: 4, seconds: 120, next: () => (j < combos.length ? { body: combos[j++].body, classify: graphqlClassify } : null) });
      let i = 0;
      await this.measure('availability-warm', `availableSlots from the cache: ${combos.length} (business, service, date) questions asked once before, in turn, ${o.connections} connections`, () =>
        closedLoop(this.target, { connections: o.connections, seconds: o.duration, classify: graphqlClassify, nextBody: () => combos[i++ % combos.length].body }),
      );
    }

    if (has('availability-cold')) {
      const combos = this.availabilityCombos();
      const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      let i = 0;
      // Before each request its business's cache generation is bumped, as a committed write does:
      // every entry of the business is unreachable and the answer is computed from PostgreSQL.
      await this.measure('availability-cold', `availableSlots computed: the business's cache generation bumped in Redis before each request (as a write does), ${combos.length} questions in turn, ${o.connections} connections`, () =>
        closedLoopWith(this.target, {
          connections: o.connections,
          seconds: o.duration,
          next: () => {
            const combo = combos[i++ % combos.length];
            return { body: combo.body, classify: graphqlClassify, before: async () => void (await redis.incr(`${this.prefix}availability:{${combo.businessId}}:gen`)) };
          },
        }),
      );
      redis.disconnect();
    }

    if (has('booking-create')) {
      const slots = this.takeSlots(Math.max(0, Math.min(this.data.freeSlots.length - this.slotCursor - 600, 1500)));
      if (!slots.length) throw new Error('Expected free slots for booking-create, found none: the data set\'s slots have run out (seed it again).');
      let i = 0;
      const classify: Classify = refusalsAllowed('SLOT_UNAVAILABLE');
      await this.measure('booking-create', `bookingCreate on distinct free slots (no contention), ${slots.length} available to it, ${o.connections} connections`, () =>
        closedLoop(this.target, {
          connections: o.connections,
          seconds: o.duration,
          classify: (status, answer) => {
            const id = bookingIdOf(answer);
            if (id) this.created.push(id);
            return classify(status, answer);
          },
          // Past the last slot, the first ones again: refused, counted as such.
          nextBody: () => createBody(slots[i++ % slots.length]),
        }),
      );
    }

    if (has('booking-create-contended')) {
      const clients = Math.max(2, o.connections * 2);
      const slots = this.takeSlots(40);
      const winners: number[] = [];
      const classify = refusalsAllowed('SLOT_UNAVAILABLE');
      await this.measure('booking-create-contended', `bookingCreate with contention: ${clients} clients at once on one slot, ${slots.length} rounds (one booking per round expected, the others refused)`, async () => {
        const result = await rounds(this.target, {
          rounds: slots.length,
          round: (r) => {
            winners[r] = 0;
            return Array.from({ length: clients }, (_, c) => ({
              body: createBody({ ...slots[r], customerGid: this.data.businesses.find((b) => b.id === slots[r].businessId)!.customerGids[c % 5] ?? slots[r].customerGid }),
              classify,
              after: (_s: number, answer: string) => {
                const id = bookingIdOf(answer);
                if (id) {
                  winners[r]++;
                  this.created.push(id);
                }
              },
            }));
          },
        });
        const doubled = winners.filter((n) => n > 1).length;
        if (doubled) result.errors += doubled;
        return { ...result, extra: { clientsPerSlot: clients, roundsWithOneBooking: winners.filter((n) => n === 1).length, roundsWithMoreThanOne: doubled } };
      });
    }

    if (has('mixed')) {
      const next = this.mixedJobs();
      await this.measure('mixed', `fixed arrival rate ${o.rate} req/s for ${o.mixSeconds} s: 60% availableSlots, 15% catalog, 15% dashboard, 5% node, 5% writes (bookingCreate, then bookingCancel of it); latency from each request's scheduled instant`, async () => {
        const r = await openLoop(this.target, { rate: o.rate, seconds: o.mixSeconds, next });
        // Answered requests per second: those never sent (too many in flight) are errors, not throughput.
        return { ...r, rate: (r.ok + r.errors + r.refused - r.dropped) / r.seconds, extra: { targetRate: o.rate, late: r.late, dropped: r.dropped } };
      });
    }

    if (has('booking-cancel')) {
      const ids = this.created.splice(0);
      let i = 0;
      if (ids.length) {
        await this.measure('booking-cancel', `bookingCancel of the ${ids.length} bookings the create scenarios made, ${o.connections} connections`, () =>
          closedLoopWith(this.target, { connections: o.connections, seconds: 600, next: () => (i < ids.length ? { body: cancelBody(ids[i++]), classify: graphqlClassify } : null) }),
        );
      }
    }

    if (has('fanout')) await this.fanout();

    if (has('soak')) this.extra.soak = await this.soak();
  }

  prefix = '';
  tag = '';

  private async nested(): Promise<SuiteResult['rawBaseline']> {
    const o = this.options;
    const raw = await startRawBaseline(this.api.databaseUrl, process.env.PG_POOL_MAX ?? '10');
    try {
      const useWrk = await hasWrk();
      const page = body(NESTED);
      const seconds = Math.max(2, Math.round(o.duration / 2));
      const one = (url: string, s: number) => useWrk
        ? wrkRate(url, { connections: o.connections, seconds: s, body: page, headers: this.target.headers })
        : closedLoop({ url, headers: this.target.headers }, { connections: o.connections, seconds: s, classify: graphqlClassify, nextBody: () => page }).then((r) => ({ rate: r.latencies.length / r.seconds, latency: latencyOf(r.latencies), requests: r.latencies.length, errors: r.errors }));
      const check = await (await fetch(this.target.url, { method: 'POST', headers: { 'content-type': 'application/json', ...this.target.headers }, body: page })).json() as { data?: { businesses: { nodes: { bookings: { nodes: unknown[] } }[] } }; errors?: unknown };
      if (check.errors || !check.data) throw new Error(`The nested page failed: ${JSON.stringify(check).slice(0, 500)}`);
      console.log(`[bench] nested page: ${check.data.businesses.nodes.length} businesses x ${check.data.businesses.nodes[0]?.bookings.nodes.length ?? 0} bookings; ${useWrk ? 'wrk' : 'autocannon'}, ${o.rounds} rounds of ${seconds} s each, alternating`);
      await one(this.target.url, 3); // warm-up: JIT, pools
      await one(raw.url, 3);
      const api: Awaited<ReturnType<typeof one>>[] = [], base: Awaited<ReturnType<typeof one>>[] = [];
      let rawPeak = 0;
      await this.measure('nested', `the nested page (20 businesses x 10 bookings with service, partner, customer), ${o.connections} connections, median of ${o.rounds} rounds (${useWrk ? 'wrk' : 'autocannon'})`, async () => {
        for (let r = 0; r < o.rounds; r++) {
          api.push(await one(this.target.url, seconds));
          base.push(await sampled(raw.pid, 500, () => one(raw.url, seconds)).then((x) => ((rawPeak = Math.max(rawPeak, x.peak)), x.value)));
          console.log(`[bench]   round ${r + 1}: api ${api.at(-1)!.rate.toFixed(0)} req/s, raw ${base.at(-1)!.rate.toFixed(0)} req/s`);
        }
        return { ...mergeRounds(api), extra: { rawBaselineRatio: median(api.map((a, i) => a.rate / base[i].rate)) } };
      });
      const ratios = api.map((a, i) => a.rate / base[i].rate);
      this.results.push({
        name: 'raw-baseline',
        description: 'the same page from one hand-written json_agg query behind node:http + pg (bench/raw-server.ts), rounds alternating with the API\'s; its peak RSS is its own process\'s',
        requests: base.reduce((a, b) => a + b.requests, 0),
        durationSeconds: seconds * o.rounds,
        requestsPerSecond: median(base.map((b) => b.rate)),
        latencyMs: mergeRounds(base).latency,
        errors: base.reduce((a, b) => a + b.errors, 0),
        statementsPerOp: 1,
        operations: {},
        peakRssMb: rawPeak,
        loadAverage: this.results.at(-1)!.loadAverage,
      });
      const medianRatio = median(ratios);
      console.log(`[bench] raw-baseline ratio: median api ${median(api.map((a) => a.rate)).toFixed(0)} req/s, raw ${median(base.map((b) => b.rate)).toFixed(0)} req/s, ratio per round ${ratios.map((r) => r.toFixed(3)).join(' ')}, median ratio ${medianRatio.toFixed(3)}`);
      return { engine: useWrk ? 'wrk' : 'autocannon', api: api.map((a) => a.rate), raw: base.map((b) => b.rate), ratios, medianRatio };
    } finally {
      await raw.stop();
    }
  }

  private async fanout() {
    const o = this.options;
    const token = await signDevelopmentToken(SECRET, { sub: 'bench' });
    await this.measure('fanout', `subscription fan-out (bench/subscribers.ts): ${o.subscribers} WebSocket subscribers of one business, 20 mutations one after another, latency from a mutation sent to its event at every subscriber`, async () => {
      const started = performance.now();
      const [r] = await measureFanOut({ api: this.api, databaseUrl: this.api.databaseUrl, sizes: [o.subscribers], events: 20, token: async () => token, log: (line) => console.log(`[bench]   ${line}`) });
      const seconds = (performance.now() - started) / 1000;
      return {
        latencies: r.allMs,
        ok: r.allMs.length,
        errors: 0,
        refused: 0,
        seconds,
        samples: [],
        rate: r.deliveriesPerSecond,
        extra: { subscribers: r.subscribers, connectSeconds: Math.round(r.connectSeconds * 10) / 10, firstSubscriberMedianMs: Math.round(median(r.firstMs) * 10) / 10, deliveriesPerSecond: Math.round(r.deliveriesPerSecond), 'req/s column': 'deliveries/s' },
      };
    });
  }

  private async soak(): Promise<SuiteResult['soak']> {
    const o = this.options;
    const next = this.mixedJobs();
    let samples: RssSample[] = [];
    await this.measure('soak', `memory soak: the mixed workload at ${o.soakRate} req/s for ${o.soakMinutes} min, the API's RSS sampled from /proc every 5 s`, async () => {
      const r = await sampled(this.api.pid, 5000, () => openLoop(this.target, { rate: o.soakRate, seconds: o.soakMinutes * 60, next }));
      samples = r.samples;
      const v = r.value;
      return { ...v, rate: (v.ok + v.errors + v.refused - v.dropped) / v.seconds, extra: { targetRate: o.soakRate, late: v.late, dropped: v.dropped, rssStartMb: samples[0].rssMb, rssEndMb: samples.at(-1)!.rssMb } };
    });
    return { requestsPerSecond: o.soakRate, minutes: o.soakMinutes, samples };
  }

  /** Cancels what is left of the suite's bookings (not measured), so the data set stays as it was. */
  async cleanUp() {
    const ids = this.created.splice(0);
    const live = await this.liveMixedBookings();
    ids.push(...live);
    if (!ids.length) return;
    let i = 0;
    const r = await closedLoopWith(this.target, { connections: 4, seconds: 600, next: () => (i < ids.length ? { body: cancelBody(ids[i++]), classify: refusalsAllowed('INVALID_TRANSITION') } : null) });
    console.log(`[bench] cancelled ${r.ok} bookings the suite made${r.errors ? `, ${r.errors} failed: ${r.samples.join(' | ')}` : ''}`);
  }

  private async liveMixedBookings(): Promise<string[]> {
    const live = this.mixedPools.flatMap((f) => f());
    this.mixedPools = [];
    return live;
  }
}

/** Several rounds as one: their median rate and the median of each percentile. */
function mergeRounds(rounds: { rate: number; latency: Latency; requests: number; errors: number }[]) {
  const m = (f: (l: Latency) => number) => median(rounds.map((r) => f(r.latency)));
  const requests = rounds.reduce((a, r) => a + r.requests, 0);
  const errors = rounds.reduce((a, r) => a + r.errors, 0);
  return { latencies: [], ok: requests - errors, errors, refused: 0, seconds: 1, samples: [], rate: median(rounds.map((r) => r.rate)), latency: { p50: m((l) => l.p50), p95: m((l) => l.p95), p99: m((l) => l.p99), max: Math.max(...rounds.map((r) => r.latency.max)) } };
}

async function hasWrk(): Promise<boolean> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => execFile('wrk', ['--version'], (error) => resolve(!error || !String(error.message).includes('ENOENT'))));
}

interface Running {
  suite: Suite;
  api: ApiProcess;
  prefix: string;
  data: Dataset;
  databaseUrl: string;
  label: string;
  startRss: number;
}

async function start(options: Options, databaseUrl: string, label: string, index: number): Promise<Running> {
  const data = await readDataset(databaseUrl, { businesses: 10, freeSlots: 6000 });
  console.log(`[bench] ${label || 'run'}: ${withoutCredentials(databaseUrl)}: ${Object.entries(data.counts).map(([k, v]) => `${v} ${k}`).join(', ')}; ${data.businesses.length} businesses asked about (largest: ${data.businesses[0].slug}, ${data.businesses[0].partners} partners), ${data.dates.length} dates, ${data.freeSlots.length} free slots`);
  const prefix = `bench-suite-${process.pid}-${index}-${Date.now()}:`;
  const logFile = `/tmp/bench-suite-api-${process.pid}-${index}.log`;
  const api = await startApi({
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: prefix,
    NODE_ENV: 'production',
    AUTH_JWT_SECRET: SECRET,
    // An account token of a platform admin, as bench/run.sh signs: grants resolved (and cached) per request.
    AUTH_ADMIN_SUBJECTS: 'bench',
    PG_POOL_MAX: process.env.PG_POOL_MAX ?? '10',
    // Budgets the benchmark never spends: the limiter's cost is measured, not its refusals.
    RATE_LIMIT_POINTS: '100000000',
    RATE_LIMIT_BOOKING_POINTS: '100000000',
    RATE_LIMIT_WS_CONNECTIONS_POINTS: '100000000',
    WS_KEEPALIVE_MS: '30000',
    // No slot generation pass in the middle of a measurement, and no webhook deliveries: seed:large's
    // endpoints point at hosts that do not answer, and each attempt would wait out its timeout here.
    SLOT_GENERATION_INTERVAL_MINUTES: '0',
    WEBHOOK_POLL_INTERVAL_MS: '0',
  }, logFile);
  const startRss = rssMb(api.pid);
  console.log(`[bench] ${label || 'run'}: API process ${api.pid} at ${api.url}, ${startRss} MB resident; its log: ${logFile}`);
  const token = await signDevelopmentToken(SECRET, { sub: 'bench' });
  const suite = new Suite(options, Object.assign(api, { databaseUrl }), { url: api.url, headers: { authorization: `Bearer ${token}` } }, data);
  suite.prefix = prefix;
  suite.tag = label;
  return { suite, api, prefix, data, databaseUrl, label, startRss };
}

/** Cancels the run's bookings, stops its API and deletes its Redis keys (cache, rate limits, events). */
async function stop(run: Running) {
  await run.suite.cleanUp().catch((e) => console.error(`[bench] clean-up failed: ${(e as Error).message}`));
  await run.api.stop();
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true });
  await redis
    .connect()
    .then(async () => {
      for (let cursor = '0'; ; ) {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${run.prefix}*`, 'COUNT', 1000);
        if (keys.length) await redis.del(...keys);
        if ((cursor = next) === '0') break;
      }
    })
    .catch(() => {})
    .finally(() => redis.disconnect());
}

async function main() {
  const options = parseOptions(process.argv.slice(2), process.env);
  const startedAt = new Date();
  const primary = options.databaseUrl ?? (await ensureOwnDatabase());
  const targets = [{ url: primary, label: options.label }];
  if (options.against) targets.push({ url: options.against, label: options.againstLabel });
  const runs: Running[] = [];
  try {
    for (const [i, t] of targets.entries()) runs.push(await start(options, t.url, t.label, i));
    for (let rep = 0; rep < options.repeat; rep++) {
      if (rep) for (const r of runs) await r.suite.beginRepetition();
      for (const name of ALL_SCENARIOS) {
        if (!options.scenarios.has(name)) continue;
        // Each scenario on every data set in turn, the order swapped every repetition: drift of a
        // shared machine's load hits both alike.
        for (const r of rep % 2 ? [...runs].reverse() : runs) await r.suite.runScenario(name);
      }
    }
  } finally {
    for (const r of runs) await stop(r);
  }
  const stamp = startedAt.toISOString().slice(0, 16).replace(':', '');
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const results: SuiteResult[] = [];
  for (const r of runs) {
    const result: SuiteResult = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      database: { url: withoutCredentials(r.databaseUrl), counts: r.data.counts },
      machine: { cpus: os.cpus().length, node: process.version },
      api: { pid: r.api.pid, startRssMb: r.startRss },
      scenarios: r.suite.results,
      ...r.suite.extra,
    };
    results.push(result);
    const name = stamp + (r.label ? `-${r.label}` : '');
    writeFileSync(new URL(`${name}.json`, dir), JSON.stringify(result, null, 2) + '\n');
    writeFileSync(new URL(`${name}.md`, dir), resultMarkdown(result));
    writeFileSync(new URL(`${name}.svg`, dir), resultSvg(result));
    console.log(`[bench] wrote bench/results/${name}.json, .md, .svg`);
    if (result.rawBaseline) console.log(`[bench] ${r.label || 'run'}: raw-baseline ratio ${result.rawBaseline.medianRatio.toFixed(3)} (rounds ${result.rawBaseline.ratios.map((x) => x.toFixed(3)).join(' ')})`);
  }
  if (results.length === 2) {
    const name = `${stamp}-${runs[0].label || 'a'}-vs-${runs[1].label || 'b'}.md`;
    const table = comparisonMarkdown({ label: runs[0].label || 'a', runs: [results[0]] }, { label: runs[1].label || 'b', runs: [results[1]] });
    writeFileSync(new URL(name, dir), `# ${runs[0].label} vs ${runs[1].label}, ${startedAt.toISOString()}\n\n${table}`);
    console.log(`[bench] wrote bench/results/${name}\n${table}`);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
