import { toPage, type Page } from '../shared/connection.js';
import { argsKey, type LoaderRegistry } from '../shared/loader-registry.js';
import type { AuditLogEntryModel } from './audit-log.model.js';
import { findAuditLogPagesByBusinessIds, type AuditLogPageArgs } from './audit.repository.js';

/** Callers check that the viewer is on each business's team first. Reads the primary: the trail of a change just made must show. */
export function auditLogPagesByBusinessId(loaders: LoaderRegistry, args: Omit<AuditLogPageArgs, 'limit'>, size: number) {
  return loaders.get<string, Page<AuditLogEntryModel>>(`AuditLogPagesByBusinessId:${argsKey(args)}:${size}`, async (businessIds) => {
    const pages = await findAuditLogPagesByBusinessIds(loaders.db, businessIds, { ...args, limit: size + 1 });
    return businessIds.map((id) => toPage(pages.get(id) ?? [], size, (e) => [e.occurredAt, e.id], args.after));
  });
}
