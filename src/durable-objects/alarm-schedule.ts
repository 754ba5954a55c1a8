/**
 * The tenant object's one alarm, and what this instance last set it to, so a create whose work falls
 * due later than the alarm already set costs no storage write.
 */
export class AlarmSchedule {
  private at: number | null = null;

  constructor(private readonly storage: DurableObjectStorage) {}

  /** Reads the stored alarm (in the constructor's `blockConcurrencyWhile`). */
  async load(): Promise<void> {
    this.at = await this.storage.getAlarm();
  }

  /** The alarm has fired: nothing is set until the next `atMost` or `reset`. */
  fired(): void {
    this.at = null;
  }

  /** Makes sure the alarm runs no later than `at`. */
  async atMost(at: number): Promise<void> {
    if (this.at !== null && this.at <= at) return;
    this.at = at;
    await this.storage.setAlarm(at);
  }

  /** After an alarm: the next one at the earliest of `times` (nulls are no work), or none. */
  async reset(times: (number | null)[]): Promise<void> {
    const due = times.filter((t): t is number => t !== null);
    if (due.length) await this.atMost(Math.min(...due));
    else if (this.at === null) await this.storage.deleteAlarm();
  }
}

/** Callers waiting for a task's create outcome to be recorded (an idempotent replay racing its first request). */
export class SubmissionWaiters {
  private readonly waiting = new Map<string, (() => void)[]>();

  /** Resolves when `settled(taskId)` is called, or after `ms`. */
  wait(taskId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.set(taskId, [...(this.waiting.get(taskId) ?? []), resolve]);
      setTimeout(resolve, ms);
    });
  }

  settled(taskId: string): void {
    for (const resolve of this.waiting.get(taskId) ?? []) resolve();
    this.waiting.delete(taskId);
  }
}
