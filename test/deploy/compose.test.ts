import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

const run = promisify(execFile);

interface ComposeService {
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  volumes?: string[];
}

/**
 * CI builds no images and runs no Docker: what can be checked without them is that the compose file
 * parses (Debian's python3-yaml: no YAML parser is among our dependencies) and that its parts name
 * each other and the code consistently: the hosts in the API's URLs, settings that README lists and config.ts accepts,
 * the load balancer's servers and the port the image listens on.
 */
describe('docker-compose.yml: PostgreSQL, a streaming replica, Redis, two API instances behind HAProxy', () => {
  let services: Record<string, ComposeService>;
  const haproxy = readFileSync(new URL('../../deploy/haproxy.cfg', import.meta.url), 'utf8');
  const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

  beforeAll(async () => {
    const script = 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))';
    const { stdout } = await run('python3', ['-c', script, new URL('../../docker-compose.yml', import.meta.url).pathname]).catch((error: Error) => {
      throw new Error(`Expected python3 with PyYAML (apt-get install python3-yaml) to parse docker-compose.yml, got: ${error.message}`);
    });
    services = JSON.parse(stdout).services;
  });

  it('has the six services, the two API instances built from this Dockerfile', () => {
    expect(Object.keys(services).sort()).toEqual(['api-1', 'api-2', 'haproxy', 'postgres', 'postgres-replica', 'redis']);
    expect(services['api-1']).toEqual(services['api-2']);
    expect(services['api-1'].build).toBe('.');
    expect(services.postgres.image).toBe(services['postgres-replica'].image);
  });

  it('points the API at the primary, the replica and Redis by their service names, with settings README lists and config.ts accepts', () => {
    const env = services['api-1'].environment!;
    expect(new URL(env.DATABASE_URL).hostname).toBe('postgres');
    expect(new URL(env.DATABASE_READ_URL).hostname).toBe('postgres-replica');
    expect(new URL(env.REDIS_URL).hostname).toBe('redis');
    for (const name of Object.keys(env)) expect(readme, `${name} has a row in README's Configuration table`).toContain(`| \`${name}\``);
    // As the API would read them (compose's ${VAR:-default} and ${VAR:?error} filled in).
    const filled = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replace(/\$\{(\w+):-([^}]*)\}/g, '$2').replace(/\$\{(\w+):\?[^}]*\}/g, 'a-secret')]));
    expect(loadConfig({ ...filled, NODE_ENV: 'production' }).replicas.readUrls).toEqual([filled.DATABASE_READ_URL]);
    expect(Object.keys(services['api-1'].depends_on!).sort()).toEqual(['postgres', 'postgres-replica', 'redis']);
  });

  it('balances over both instances on the port the image listens on, by their readiness', () => {
    const port = /ENV .*PORT=(\d+)/.exec(dockerfile)?.[1];
    expect(port).toBe('4000');
    const servers = [...haproxy.matchAll(/^\s*server (\S+) (\S+):(\d+) check$/gm)].map((m) => [m[1], m[2], m[3]]);
    expect(servers).toEqual([
      ['api-1', 'api-1', port],
      ['api-2', 'api-2', port],
    ]);
    expect(haproxy).toMatch(/option httpchk GET \/readyz/);
  });

  it('uses the image the Dockerfile describes: Node 20 slim, production dependencies only, a non-root user, a health check', () => {
    expect(dockerfile.match(/^FROM node:20-slim/gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
  });
});
