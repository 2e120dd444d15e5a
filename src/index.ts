import { createServer } from 'node:net';
import { startApp, openDatabase, PortInUseError } from './app.js';
import { signDevelopmentToken } from './auth/tokens.js';
import { loadConfig } from './config.js';
import { installProcessGuards } from './process-guards.js';
import { registerRetentionMetrics, startRetentionJob } from './retention/retention.job.js';
import { startSlotGenerationJob } from './schedules/slot-generation.job.js';
import { DEMO_ACCOUNT_ROLES, demoAccountToken, seedDemoAccounts } from './seed/demo-accounts.js';
import { seedDemoData, type DemoSummary } from './seed/demo-data.js';
import { EXAMPLE_OPERATIONS } from './server/example-operations.js';
import { GRAPHQL_PATH } from './server/http.js';
import { createSandboxHandler } from './server/sandbox.js';
import { createLogger } from './shared/logger.js';

/** The slot generation job's first pass waits this long after the API listens (see startSlotGenerationJob). */
const FIRST_SLOT_PASS_AFTER_MS = 5000;
/** The first retention round waits this long after the API listens: the start is for requests. */
const FIRST_RETENTION_ROUND_AFTER_MS = 60_000;
/** How long shutdown waits for requests in flight (after the drain) before it exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main() {
  const config = loadConfig();
  const log = await createLogger(config.log);
  installProcessGuards(log);
  // Before the database opens (the embedded one takes seconds, and holds its directory): a taken
  // port is the commonest start failure, and it should be told at once.
  await checkPortIsFree(config.host, config.port);
  if (config.production && config.webhooks.allowPrivateNetworks) {
    log.error('Warning: WEBHOOK_ALLOW_PRIVATE_NETWORKS=true in production: webhook endpoints may point into this network (metadata service, databases, internal hosts).');
  }
  const database = await openDatabase(config, log);
  const demo = config.demoData ? await seedDemoData(database.db) : null;
  if (demo) await seedDemoAccounts(database.db, demo);

  const sandbox = createSandboxHandler({ endpoint: GRAPHQL_PATH, exampleOperations: EXAMPLE_OPERATIONS });
  const app = await startApp(config, database, { log, routes: [(req, res) => sandbox(req, res)] });
  const where = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PostgreSQL in ${config.dataDir}`;
  // One write, so that no log line lands in the middle of the banner.
  const banner = [
    `\nBooking API ready on ${where}`,
    `  GraphQL endpoint: ${app.url}   (POST application/json)`,
    `  Sandbox:          ${app.url}   (open it in a browser)`,
    `  Subscriptions:    ${app.wsUrl}   (graphql-ws; token in the init payload)`,
    `  E-mail:           ${config.mail.smtpUrl ? 'through SMTP_URL' : `written to ${config.mail.dir}/ as .eml files (no SMTP_URL)`}`,
    ...(demo && config.auth.jwtSecret ? await demoTokenLines(config.auth.jwtSecret, demo, config.auth.acceptClaimTokens !== false) : []),
  ];
  console.log(banner.join('\n'));
  // Here rather than in startApp, so that tests make slots only when they ask for them; after the
  // banner and a few seconds later, so that the first requests are not served behind a pass.
  const slotJob = config.slotGenerationIntervalMinutes > 0
    ? startSlotGenerationJob({ database, changes: app.changes, log, intervalMinutes: config.slotGenerationIntervalMinutes, horizonDays: config.slotHorizonDays, firstPassAfterMs: FIRST_SLOT_PASS_AFTER_MS })
    : null;
  // Beside the slot job, for the same reason: tests purge only when they ask to.
  const retentionJob = config.retention.intervalMinutes > 0
    ? startRetentionJob({ database, log, config: config.retention, firstRoundAfterMs: FIRST_RETENTION_ROUND_AFTER_MS })
    : null;
  if (retentionJob) registerRetentionMetrics(app.metrics, retentionJob.stats);

  let stopping = false;
  // SIGTERM (an orchestrator, a supervisor): /readyz turns 503 at once and requests are served on
  // for the drain, so that a load balancer stops sending new ones before the listener closes;
  // then the requests in flight finish and the process exits. SIGINT (Ctrl-C at a terminal) has
  // nobody to drain and skips the wait.
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const drainMs = signal === 'SIGTERM' ? config.shutdownDrainMs : 0;
    app.readiness.startDraining();
    log.info('Shutting down', { signal, drainMs });
    setTimeout(() => process.exit(1), drainMs + SHUTDOWN_GRACE_MS).unref();
    if (drainMs > 0) await new Promise((resolve) => setTimeout(resolve, drainMs));
    await slotJob?.stop();
    await retentionJob?.stop();
    await app.stop();
    await database.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

async function demoTokenLines(secret: string, demo: DemoSummary, serviceTokens: boolean): Promise<string[]> {
  const lines: string[] = [];
  lines.push('\nDemo tokens (development secret; send as "Authorization: Bearer <token>"):');
  if (serviceTokens) lines.push(`  admin (service token): ${await signDevelopmentToken(secret, { sub: 'demo-admin', role: 'admin' })}`);
  for (const business of demo.businesses) {
    lines.push(`  ${business.slug} (${business.kind})`);
    for (const role of DEMO_ACCOUNT_ROLES) {
      if (role === 'partner' && !business.partnerIds[0]) continue;
      if (role === 'customer' && !business.customerIds[0]) continue;
      lines.push(`    ${`${role}:`.padEnd(9)} ${await demoAccountToken(secret, role, business.slug)}`);
    }
  }
  lines.push('More: npm run token -- --role owner|staff|partner|customer --business <slug>\n');
  return lines;
}

function checkPortIsFree(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new PortInUseError(host, port) : error));
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

main().catch((error) => {
  if (error instanceof PortInUseError) console.error(`The API could not start: ${error.message}`);
  else console.error('The API could not start:', error);
  process.exit(1);
});
