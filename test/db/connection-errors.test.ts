import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/connect.js';
import { DatabaseAvailability, isConnectionError, isDatabaseUnavailable, markFromDatabase } from '../../src/db/connection-errors.js';
import { onRealPostgres } from '../support/database.js';

const withCode = (code: string, message = 'failed') => Object.assign(new Error(message), { code });
const fromDatabase = (error: Error) => {
  markFromDatabase(error);
  return error;
};

describe('Connection errors: which failures mean the database is unavailable', () => {
  it('recognises SQLSTATE class 08, 57P01-57P03, 53300, socket failures and pg’s messages for a dead connection', () => {
    for (const code of ['08006', '08001', '57P01', '57P02', '57P03', '53300', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']) expect(isConnectionError(withCode(code)), code).toBe(true);
    for (const message of ['Connection terminated unexpectedly', 'timeout exceeded when trying to connect', 'Client has encountered a connection error and is not queryable']) {
      expect(isConnectionError(new Error(message)), message).toBe(true);
    }
    // Through a cause, and through the per-address errors of a refused connect.
    expect(isConnectionError(new TypeError('fetch failed', { cause: withCode('ECONNREFUSED') }))).toBe(true);
    expect(isConnectionError(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], ''))).toBe(true);
  });

  it('does not take a statement’s own failure for an outage', () => {
    for (const code of ['23505', '23P01', '40001', '55P03', '57014', '42P01', 'ENOENT']) expect(isConnectionError(withCode(code)), code).toBe(false);
    expect(isConnectionError(new Error('Connection terminated by a typo'))).toBe(false);
    expect(isConnectionError(new Error('Client was closed and is not queryable'))).toBe(false);
  });

  it('calls it the database’s unavailability only for errors that came out of the pool', () => {
    expect(isDatabaseUnavailable(fromDatabase(withCode('57P01')))).toBe(true);
    // Another client's reset socket (a payment provider, a webhook endpoint) is not the database's.
    expect(isDatabaseUnavailable(withCode('ECONNRESET'))).toBe(false);
    expect(isDatabaseUnavailable(fromDatabase(withCode('23505')))).toBe(false);
    expect(isDatabaseUnavailable(new Error('wrapped', { cause: fromDatabase(new Error('Connection terminated unexpectedly')) }))).toBe(true);
  });

  it('reports one outage, however many failures, ended only by a connection checked out after it began', () => {
    const reports: string[] = [];
    const availability = new DatabaseAvailability({ down: (e) => reports.push(`down ${e.message}`), up: ({ failures }) => reports.push(`up after ${failures}`) });
    const before = availability.epoch;
    availability.failed(new Error('first'));
    availability.failed(new Error('second'));
    // A statement that was under way when the outage began proves nothing.
    availability.succeeded(before);
    availability.failed(new Error('third'));
    availability.succeeded(availability.epoch);
    availability.succeeded(availability.epoch);
    expect(reports).toEqual(['down first', 'up after 3']);
    expect(availability.available).toBe(true);
  });

  it.runIf(onRealPostgres)('survives the death of a checked-out connection, reports it, and discards that connection', async () => {
    const reports: string[] = [];
    const handle = await connectDatabase({
      databaseUrl: process.env.DATABASE_URL,
      poolMax: 1,
      availability: { down: (e) => reports.push(`down ${(e as Error & { code?: string }).code}`), up: () => reports.push('up') },
    });
    const killer = await connectDatabase({ databaseUrl: process.env.DATABASE_URL, poolMax: 1 });
    try {
      let failure: unknown;
      await handle.db.connection().execute(async (connection) => {
        const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(connection);
        // Terminated while checked out and idle: pg emits 'error' on the client, which no listener
        // of pg-pool's hears; without ours the test process would die of it here.
        await sql`SELECT pg_terminate_backend(${rows[0].pid}::int)`.execute(killer.db);
        for (let i = 0; i < 50 && !reports.length; i++) await new Promise((r) => setTimeout(r, 20));
        failure = await sql`SELECT 1`.execute(connection).catch((error: unknown) => error);
      });
      expect(reports).toEqual(['down 57P01']);
      expect(isDatabaseUnavailable(failure)).toBe(true);
      // The one pool slot got a fresh connection: the broken client was released with its error.
      const { rows } = await sql<{ ok: number }>`SELECT 1 AS ok`.execute(handle.db);
      expect(rows).toEqual([{ ok: 1 }]);
      expect(reports).toEqual(['down 57P01', 'up']);
    } finally {
      await killer.close();
      await handle.close();
    }
  });
});
