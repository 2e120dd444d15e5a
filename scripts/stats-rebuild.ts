/**
 * npm run stats:rebuild -- [--business ID] [--database-url URL]
 *
 * Recomputes Business.stats's daily rollups (booking_stats_daily, partner_open_daily) from the
 * bookings, payments and slots, for one business (its raw id) or all, and sets their relay marks
 * (src/stats/stats.repository.ts, rebuildStats). Safe beside running API processes: it holds the
 * outbox relay's lock meanwhile, so relaying waits for it (seconds on 100k bookings) and no event
 * is lost or counted twice. The database is migrated first if it is not.
 */
import { connectDatabase } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { rebuildStats, type StatsRebuildResult } from '../src/stats/stats.repository.js';

export interface StatsRebuildOptions {
  databaseUrl: string;
  businessId: string | null;
}

function parseArgs(argv: string[]): StatsRebuildOptions {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`Expected a --flag, got "${arg}".`);
    const [name, inline] = arg.slice(2).split('=', 2);
    if (name !== 'business' && name !== 'database-url') throw new Error(`Unknown flag --${name}; expected --business or --database-url.`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`Expected a value after --${name}, got the end of the arguments.`);
    flags.set(name, value);
  }
  const businessId = flags.get('business') ?? null;
  if (businessId !== null && !/^[1-9][0-9]{0,17}$/.test(businessId)) throw new Error(`Expected --business to be a business's raw id (digits), got "${businessId}".`);
  const databaseUrl = flags.get('database-url') ?? process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('Expected --database-url or DATABASE_URL, got neither.');
  return { databaseUrl, businessId };
}

/** Connects, migrates, rebuilds, disconnects. */
export async function statsRebuild(options: StatsRebuildOptions): Promise<StatsRebuildResult & { ms: number }> {
  const database = await connectDatabase({ databaseUrl: options.databaseUrl, poolMax: 2 });
  try {
    await migrateToLatest(database.db);
    const started = performance.now();
    const result = await rebuildStats(database.db, options.businessId);
    return { ...result, ms: Math.round(performance.now() - started) };
  } finally {
    await database.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  statsRebuild(parseArgs(process.argv.slice(2))).then(
    (r) => console.log(`[stats] rebuilt ${r.bookingRows} booking rows and ${r.openRows} open-time rows in ${r.ms} ms; marks at position ${r.position}`),
    (error) => {
      console.error(`[stats] rebuild failed: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}

export { parseArgs as parseStatsRebuildArgs };
