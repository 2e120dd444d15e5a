import { auditServer } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggedErrors, startTestApi, type TestApi } from '../support/api.js';

/**
 * graphql-http's audit of the GraphQL-over-HTTP spec against the running server. What remains
 * besides `ok` is deliberate: Apollo's CSRF prevention refuses GETs without a JSON content type or
 * an `apollo-require-preflight` header (a browser could send such a GET from any site), which the
 * spec's MAY-level GET audits notice.
 */
describe('GraphQL over HTTP: the spec audit', () => {
  let api: TestApi;
  let results: Awaited<ReturnType<typeof auditServer>>;

  beforeAll(async () => {
    api = await startTestApi();
    const logged = loggedErrors.length;
    results = await auditServer({ url: api.app.url });
    // Sixty-one hostile and odd requests, none of them an incident.
    expect(loggedErrors.slice(logged)).toEqual([]);
  });
  afterAll(() => api?.close());

  const named = (status: string) => results.filter((r) => r.status === status).map((r) => r.name).sort();

  it('passes every MUST audit: no errors', () => {
    expect(named('error')).toEqual([]);
  });

  it('passes the SHOULD audits: 200 for request errors under application/json, 4xx under application/graphql-response+json', () => {
    expect(named('warn')).toEqual([]);
  });

  it('leaves only the GET notices of CSRF prevention', () => {
    expect(named('notice')).toEqual([
      'MAY accept application/x-www-form-urlencoded formatted GET requests',
      'MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/graphql-response+json',
      'MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/json',
    ].sort());
    expect(results.filter((r) => r.status === 'ok')).toHaveLength(58);
  });
});
