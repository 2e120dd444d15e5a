/**
 * Background work that runs on demand (`kick`) and on a timer, one run at a time: asks that arrive
 * during a run coalesce into one more run after it. Used by the outbox relay and the webhook
 * dispatcher. A failed run is reported and the next kick or tick runs again.
 */
export class CoalescedRuns {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private halted = false;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
    /** Called after each run that did not fail (a loop reporting failures once per streak resets here). */
    private readonly onSuccess: () => void = () => {},
  ) {}

  get stopped(): boolean {
    return this.halted;
  }

  /** Runs every `intervalMs` too (again after stop()); `beforeTick` runs before each timed kick. */
  every(intervalMs: number, beforeTick: () => void = () => {}): void {
    this.halted = false;
    if (this.timer) clearTimeout(this.timer);
    const tick = () => {
      beforeTick();
      void this.kick();
      this.timer = setTimeout(tick, intervalMs);
      this.timer.unref();
    };
    this.timer = setTimeout(tick, intervalMs);
    this.timer.unref();
  }

  /** Asks for a run; resolves when a run that started after this call has finished. */
  kick(): Promise<void> {
    if (this.halted) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop();
    return this.running;
  }

  /** Stops the timer and waits for the run in progress. */
  async stop(): Promise<void> {
    this.halted = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private async loop(): Promise<void> {
    for (;;) {
      this.again = false;
      try {
        await this.run();
        this.onSuccess();
      } catch (error) {
        this.onError(error);
      }
      // Decided and cleared in the same synchronous step: a kick arriving after this starts a new
      // loop, and one arriving before it set `again` and is served by another pass.
      if (!this.again || this.halted) {
        this.running = null;
        return;
      }
    }
  }
}
