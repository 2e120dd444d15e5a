import type DataLoader from 'dataloader';

/**
 * A reference the database promises (a foreign key, a row the parent was read with) that came back
 * missing: a bug or a broken row, never the caller's fault. It is thrown as a plain Error so the
 * error formatter logs its message and masks it as INTERNAL_SERVER_ERROR, instead of the field
 * resolving to null and surfacing as an anonymous non-null violation.
 */
export class BrokenReferenceError extends Error {
  override readonly name = 'BrokenReferenceError';
}

/**
 * Loads a model that a non-null field refers to, through the request's DataLoader (so references of
 * many parents still batch into one statement). `field` (`Booking.partner`) and `parentId` only go
 * into the message of a failure, which is built then: the hot path allocates nothing for them. A
 * loader that filters by visibility reads a hidden row as null too: a parent the caller may see
 * whose non-null reference they may not is as much a bug as a missing row.
 */
export function referenced<T>(loader: DataLoader<string, T | null>, id: string, field: string, parentId: string): Promise<T> {
  // `load` is called now, not after an await: the key joins the current batch.
  return loader.load(id).then((model) => {
    if (model == null) {
      const parentType = field.slice(0, field.indexOf('.'));
      throw new BrokenReferenceError(`Expected ${field} of ${parentType} ${parentId} to load row ${id}, got null: the row is missing or hidden from this caller.`);
    }
    return model;
  });
}
