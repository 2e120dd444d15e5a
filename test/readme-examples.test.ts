import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractExamples, jsonValuesIn, runExamples, shapeDifferences, startFreshApi, variablesFromBanner, type StartedApi } from '../scripts/readme-examples.js';

const README = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');

describe('README examples: marked blocks are extracted and checked', () => {
  const doc = [
    'Prose, and an unmarked block that never runs:',
    '```sh',
    'rm -rf /',
    '```',
    '<!-- example-setup -->',
    '```sh',
    "API=http://127.0.0.1:4000/graphql",
    "STAFF_TOKEN='<paste>'",
    '```',
    '<!-- example: first -->',
    '',
    '```sh',
    'echo "{}"',
    '```',
    '<!-- example-answer: first -->',
    '```json',
    '{ "data": { "x": { "code": "SLOT_UNAVAILABLE", "id": "abc" } } }',
    '```',
  ].join('\n');

  it('finds the marked blocks in order, with their kind, name, code and line', () => {
    expect(extractExamples(doc)).toEqual([
      { kind: 'setup', name: '', language: 'sh', code: "API=http://127.0.0.1:4000/graphql\nSTAFF_TOKEN='<paste>'", line: 5 },
      { kind: 'sh', name: 'first', language: 'sh', code: 'echo "{}"', line: 10 },
      { kind: 'answer', name: 'first', language: 'json', code: '{ "data": { "x": { "code": "SLOT_UNAVAILABLE", "id": "abc" } } }', line: 15 },
    ]);
  });

  it('refuses a marker without its block, an unknown marker, an answer without its example, and a name used twice', () => {
    expect(() => extractExamples('<!-- example: a -->\n```graphql\n{ a }\n```')).toThrow(/line 1: expected a fenced ```sh or ```bash block/);
    expect(() => extractExamples('<!-- example-run: a -->\n```sh\n```')).toThrow(/line 1: expected a marker like/);
    expect(() => extractExamples('<!-- example-answer: b -->\n```json\n{}\n```')).toThrow(/the answer of "b" must follow an example of that name/);
    expect(() => extractExamples('<!-- example: a -->\n```sh\n```\n<!-- example: a -->\n```sh\n```')).toThrow(/a second example named "a"/);
  });

  it('compares answers by shape: IDs and messages may differ, codes and keys may not', () => {
    const expected = JSON.parse('{ "data": { "x": { "code": "SLOT_UNAVAILABLE", "id": "abc", "list": [{ "n": 1 }] } } }');
    expect(shapeDifferences(expected, { data: { x: { code: 'SLOT_UNAVAILABLE', id: 'other', list: [{ n: 2 }, { n: 3 }] } }, extensions: { cost: {} } })).toEqual([]);
    expect(shapeDifferences(expected, { data: { x: { code: 'IN_THE_PAST', id: 'abc', list: [] } } })).toEqual(['$.data.x.code: expected SLOT_UNAVAILABLE, got "IN_THE_PAST"', '$.data.x.list: expected at least one item, got []']);
    expect(shapeDifferences(expected, { data: { x: null } })).toEqual(['$.data.x: expected object, got null (null)']);
    expect(shapeDifferences(expected, undefined)).toEqual(['$: expected object, got undefined (undefined)']);
  });

  it('reads JSON answers out of output mixed with other lines', () => {
    expect(jsonValuesIn('> npm line\n{"a":{"b":"}"}}\nPosted it.\n{"c":[1,{"d":2}]}')).toEqual([{ a: { b: '}' } }, { c: [1, { d: 2 }] }]);
  });

  it("takes the endpoint and the example business's tokens from npm start's banner, and names what it misses", () => {
    const jwt = (n: number) => `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI${n}In0.c2ln${n}`;
    const banner = [
      'Booking API ready on embedded PostgreSQL in memory://',
      '  GraphQL endpoint: http://127.0.0.1:4567/graphql   (POST application/json)',
      '  admin: ' + jwt(0),
      '  urban-fix (marketplace)',
      '    staff:    ' + jwt(1),
      '  north-end-barbers (barber_shop)',
      '    staff:    ' + jwt(2),
      '    customer: ' + jwt(3),
    ].join('\n');
    expect(variablesFromBanner(banner, ['API', 'STAFF_TOKEN', 'CUSTOMER_TOKEN', 'ADMIN_TOKEN'])).toEqual({
      API: 'http://127.0.0.1:4567/graphql',
      STAFF_TOKEN: jwt(2),
      CUSTOMER_TOKEN: jwt(3),
      ADMIN_TOKEN: jwt(0),
    });
    const reworded = ['GraphQL endpoint: http://127.0.0.1:4567/graphql', '  North End Barbers (north-end-barbers, barber shop)', '    staff (Sam, owner): ' + jwt(4)].join('\n');
    expect(variablesFromBanner(reworded, ['STAFF_TOKEN'])).toEqual({ STAFF_TOKEN: jwt(4) });
    expect(() => variablesFromBanner(banner, ['PARTNER_TOKEN'])).toThrow(/Expected npm start's banner to print a partner token under north-end-barbers for the README's PARTNER_TOKEN/);
  });
});

describe("README examples: every marked one runs against a fresh npm start and gets an answer without errors", () => {
  let api: StartedApi;
  beforeAll(async () => {
    api = await startFreshApi();
  }, 180_000);
  afterAll(async () => {
    await api?.stop();
  });

  it('marks the examples of Quick start, the API by example, payments and events', () => {
    const names = extractExamples(README).map((e) => `${e.kind}:${e.name}`);
    expect(names).toEqual(expect.arrayContaining(['setup:', 'sh:catalog', 'sh:availability', 'sh:book', 'sh:refusal', 'answer:refusal', 'sh:pay', 'answer:pay', 'node:subscribe', 'sh:missed']));
  });

  it('runs them in order in one shell, as a newcomer pastes them, and each one passes', async () => {
    const outcomes = await runExamples(extractExamples(README), api.banner());
    const failures = outcomes.filter((o) => !o.ok).map((o) => `${o.name} (README line ${o.line}): ${o.problems.join('; ')}\n${o.output}`);
    expect(failures).toEqual([]);
    expect(outcomes.length).toBeGreaterThanOrEqual(10);
  }, 180_000);
});
