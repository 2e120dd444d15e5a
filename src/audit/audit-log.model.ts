/** One audit row as Business.auditLog shows it. `entity` is the stored spelling (`webhook_endpoint`). */
export interface AuditLogEntryModel {
  id: string;
  businessId: string;
  entity: string;
  entityId: string;
  action: string;
  actor: string;
  changes: unknown;
  occurredAt: string;
}
