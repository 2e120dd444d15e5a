/**
 * Every environment variable the API reads, validated once at start into one typed object.
 * README.md lists them; keep the two in step.
 */
export interface Config {
  host: string;
  port: number;
  /** PostgreSQL URL; without it the API runs on an embedded PGlite database in `dataDir`. */
  databaseUrl: string | undefined;
  poolMax: number;
  dataDir: string;
  /** Load the demo businesses if they are missing (default: on for the embedded database, off with DATABASE_URL). */
  demoData: boolean;
  auth: {
    jwtSecret: string | undefined;
    jwksUrl: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
  };
  /** Statements slower than this many milliseconds are logged with their tag. */
  slowQueryMs: number;
  production: boolean;
}

export const DEVELOPMENT_JWT_SECRET = 'development-secret-do-not-use-in-production';

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`Expected ${name} to be an integer from ${min} to ${max}, got "${raw}".`);
  }
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new Error(`Expected ${name} to be true or false, got "${raw}".`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const production = env.NODE_ENV === 'production';
  const jwtSecret = env.AUTH_JWT_SECRET || (production ? undefined : DEVELOPMENT_JWT_SECRET);
  const jwksUrl = env.AUTH_JWKS_URL || undefined;
  if (production && !env.AUTH_JWT_SECRET && !jwksUrl) {
    throw new Error('Expected AUTH_JWT_SECRET or AUTH_JWKS_URL when NODE_ENV=production: tokens could not be verified.');
  }
  if (jwksUrl && !/^https?:\/\//.test(jwksUrl)) {
    throw new Error(`Expected AUTH_JWKS_URL to be an http(s) URL, got "${jwksUrl}".`);
  }
  return {
    host: env.HOST || '127.0.0.1',
    port: integer(env, 'PORT', 4000, 0, 65535),
    databaseUrl: env.DATABASE_URL || undefined,
    poolMax: integer(env, 'PG_POOL_MAX', 20, 1, 1000),
    dataDir: env.DATA_DIR || '.data/pglite',
    demoData: flag(env, 'DEMO_DATA', !env.DATABASE_URL),
    auth: { jwtSecret, jwksUrl, issuer: env.AUTH_ISSUER || undefined, audience: env.AUTH_AUDIENCE || undefined },
    slowQueryMs: integer(env, 'SLOW_QUERY_MS', 200, 0, 600_000),
    production,
  };
}
