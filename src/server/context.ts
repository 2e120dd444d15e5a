import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/sql-helpers.js';
import type { ChangeFeed } from '../shared/change-feed.js';
import { LoaderRegistry } from '../shared/loader-registry.js';

/** What every request shares with the running application. */
export interface AppServices {
  db: Db;
  log: Logger;
  /** Committed changes are announced here (the availability cache listens). */
  changes: ChangeFeed;
}

export interface Logger {
  info(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

/** The GraphQL context: built per HTTP request (and per subscription event). */
export interface RequestContext {
  viewer: Viewer;
  loaders: LoaderRegistry;
  app: AppServices;
}

export function createRequestContext(app: AppServices, viewer: Viewer): RequestContext {
  return { viewer, loaders: new LoaderRegistry(app.db, viewer), app };
}
