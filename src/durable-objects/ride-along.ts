/**
 * Records a request makes for its tenant's object after its client has its answer (a chat hold's closing, RunAPI's id
 * for a new task), waiting to ride in the tenant's next gathered call instead of making a call of their own: under load
 * one call to the object carries a batch of new requests and the records of ended ones.
 *
 * Like `TenantBatch`, a request never awaits a promise another request settles: it sleeps on its own timer, then looks
 * whether a call took its record; if none did, it sends what is still waiting itself.
 */
export class RideAlong<T> {
  private readonly waiting = new Map<string, T[]>();

  /** `rideMs`: how long a record waits for a call to carry it before it goes on its own. */
  constructor(private readonly rideMs: number) {}

  /** Everything waiting for this tenant, taken by a call about to carry it (its maker sends it again if that call fails). */
  take(tenantId: string): T[] {
    const items = this.waiting.get(tenantId) ?? [];
    this.waiting.delete(tenantId);
    return items;
  }

  /** Waits up to `rideMs` for a call to carry `item`; if none took it, sends it, with whatever else still waits, through `send`. */
  async ride(tenantId: string, item: T, send: (items: T[]) => Promise<void>): Promise<void> {
    const list = this.waiting.get(tenantId) ?? [];
    list.push(item);
    this.waiting.set(tenantId, list);
    await new Promise((resolve) => setTimeout(resolve, this.rideMs));
    if (!this.waiting.get(tenantId)?.includes(item)) return;
    await send(this.take(tenantId));
  }
}
