import { createServer } from 'node:net';
import { startApp, openDatabase, PortInUseError } from './app.js';
import { signDevelopmentToken } from './auth/tokens.js';
import { loadConfig } from './config.js';
import { installProcessGuards } from './process-guards.js';
import { startSlotGenerationJob } from './schedules/slot-generation.job.js';
import { seedDemoData, type DemoSummary } from './seed/demo-data.js';
import { EXAMPLE_OPERATIONS } from './server/example-operations.js';
import { GRAPHQL_PATH } from './server/http.js';
import { createSandboxHandler } from './server/sandbox.js';
import { toGlobalId } from './shared/global-id.js';
import { createLogger } from './shared/logger.js';

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

  const sandbox = createSandboxHandler({ endpoint: GRAPHQL_PATH, exampleOperations: EXAMPLE_OPERATIONS });
  const app = await startApp(config, database, { log, routes: [(req, res) => sandbox(req, res)] });
  // Here rather than in startApp, so that tests make slots only when they ask for them.
  const slotJob = config.slotGenerationIntervalMinutes > 0
    ? startSlotGenerationJob({ database, changes: app.changes, log, intervalMinutes: config.slotGenerationIntervalMinutes, horizonDays: config.slotHorizonDays })
    : null;

  const where = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PostgreSQL in ${config.dataDir}`;
  console.log(`\nBooking API ready on ${where}`);
  console.log(`  GraphQL endpoint: ${app.url}   (POST application/json)`);
  console.log(`  Sandbox:          ${app.url}   (open it in a browser)`);
  console.log(`  Subscriptions:    ${app.wsUrl}   (graphql-ws; token in the init payload)`);
  if (demo && config.auth.jwtSecret) await printDemoTokens(config.auth.jwtSecret, demo);

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
    await app.stop();
    await database.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

async function printDemoTokens(secret: string, demo: DemoSummary) {
  console.log('\nDemo tokens (development secret; send as "Authorization: Bearer <token>"):');
  console.log(`  admin: ${await signDevelopmentToken(secret, { sub: 'demo-admin', role: 'admin' })}`);
  for (const business of demo.businesses) {
    const business_id = toGlobalId('Business', business.id);
    console.log(`  ${business.slug} (${business.kind})`);
    console.log(`    staff:    ${await signDevelopmentToken(secret, { sub: `demo-staff-${business.slug}`, role: 'staff', business_id })}`);
    if (business.partnerIds[0]) {
      const partner_id = toGlobalId('Partner', business.partnerIds[0]);
      console.log(`    partner:  ${await signDevelopmentToken(secret, { sub: `demo-partner-${business.partnerIds[0]}`, role: 'partner', business_id, partner_id })}`);
    }
    if (business.customerIds[0]) {
      const customer_id = toGlobalId('Customer', business.customerIds[0]);
      console.log(`    customer: ${await signDevelopmentToken(secret, { sub: `demo-customer-${business.customerIds[0]}`, role: 'customer', business_id, customer_id })}`);
    }
  }
  console.log('More: npm run token -- --role staff --business <slug>\n');
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
