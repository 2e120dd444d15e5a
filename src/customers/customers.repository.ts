import { sql } from 'kysely';
import { allOf, lateralPages, query, type Db } from '../db/sql-helpers.js';
import type { CustomerModel } from './customer.model.js';

export function findCustomersByIds(db: Db, ids: readonly string[]): Promise<CustomerModel[]> {
  return query(db, 'findCustomersByIds', sql`
    SELECT c.id, c.business_id AS "businessId", c.email, c.name FROM customers c
    WHERE c.id = ANY(${ids}::bigint[]) AND c.deleted_at IS NULL`);
}

export function findCustomerPagesByBusinessIds(db: Db, businessIds: readonly string[], args: { after: [string, string] | null; limit: number }) {
  return lateralPages<CustomerModel>(db, 'findCustomerPagesByBusinessIds', businessIds, sql`
    SELECT p.parent_id AS "parentId", c.id, c.business_id AS "businessId", c.email, c.name FROM customers c
    WHERE ${allOf([
      sql`c.business_id = p.parent_id AND c.deleted_at IS NULL`,
      args.after && sql`(c.name, c.id) > (${args.after[0]}, ${args.after[1]}::bigint)`,
    ])}
    ORDER BY c.name, c.id LIMIT ${args.limit}`);
}
