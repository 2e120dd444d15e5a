/**
 * What a committed change touched, announced after the commit and before the mutation returns.
 * Listeners (the availability cache's invalidation, the booking event relay) subscribe here, so
 * actions need not know them; a listener's failure is logged and does not fail the mutation that
 * already committed.
 */
export interface TimeRange {
  startsAt: string;
  endsAt: string;
}

export interface Change {
  /** What happened, for example `booking.created`, `slot.blocked`, `partner.deactivated`, `slots.generated`. */
  action: string;
  businessId: string;
  /** The partners whose availability may have changed. */
  partnerIds: string[];
  /** The times whose availability may have changed; empty when all of the partners' times may have. */
  ranges: TimeRange[];
  /** Cities whose availability may have changed besides the partners' current ones: the city a partner moved away from. */
  cities?: string[];
  /** The bookings the change is about, if any. */
  bookingIds?: string[];
  /** The accounts whose memberships or customer records changed: their cached access is dropped. */
  accountIds?: string[];
  /** A business, service or partner row changed: the catalog cache's rows are dropped (cache/catalog-cache.ts). */
  catalog?: true;
  /** `false` for a change that moved no time at all (a payment's status): availability listeners skip it. */
  availability?: false;
}

export type ChangeListener = (change: Change) => void | Promise<void>;

export class ChangeFeed {
  private readonly listeners: ChangeListener[] = [];

  constructor(private readonly onListenerError: (error: unknown, change: Change) => void = () => {}) {}

  subscribe(listener: ChangeListener): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at !== -1) this.listeners.splice(at, 1);
    };
  }

  /** Runs every listener to completion: a mutation returns only once its effects are visible. */
  async publish(change: Change): Promise<void> {
    await Promise.all(
      this.listeners.map(async (listener) => {
        try {
          await listener(change);
        } catch (error) {
          this.onListenerError(error, change);
        }
      }),
    );
  }
}
