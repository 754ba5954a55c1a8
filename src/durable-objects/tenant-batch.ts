/**
 * Calls to tenants' objects from this isolate, gathered (SPEC §5): at most one call per tenant is in
 * flight; requests that arrive meanwhile wait, and the first of them to see the call end makes the
 * next one, for everyone waiting. Under load one call (one message, one transaction, one commit in
 * the object) serves many requests; alone, a request's call goes at once.
 *
 * Waiters look at shared data on their own timers and never await a promise another request settles:
 * Workers run a request's code, and its I/O, only in that request's context. A waiter that still has no
 * answer after `staleMs` (the request making the call was cancelled) makes its own call, so `send` must
 * be safe to repeat for an item (the tenant object's create and record calls are).
 */
export class TenantBatch<In, Out> {
  private readonly queues = new Map<string, Queue<In, Out>>();

  constructor(private readonly staleMs = 5_000) {}

  /** `item`'s result, from the call that carried it (made with the `send` of the request that made it); rejects when that call failed. */
  async call(tenantId: string, item: In, send: (items: In[]) => Promise<Out[]>): Promise<Out> {
    const queue = this.queueOf(tenantId);
    const entry: Entry<In, Out> = { item };
    queue.waiting.push(entry);
    for (let pause = 1; queue.busy && Date.now() - queue.since < this.staleMs; pause = Math.min(pause * 2, MAX_PAUSE_MS)) {
      await new Promise((resolve) => setTimeout(resolve, pause));
      if (entry.outcome) return unwrap(entry.outcome);
    }
    // No call in flight (or it was lost): this request makes one, for itself and everyone waiting.
    queue.busy = true;
    queue.since = Date.now();
    const batch = queue.waiting.splice(0);
    if (!batch.includes(entry)) batch.push(entry); // already in a call that did not end in time: sent again
    try {
      const results = await send(batch.map((e) => e.item));
      // Plain copies: what one request hands another carries nothing of its own context.
      batch.forEach((e, i) => {
        e.outcome ??= { ok: true, value: structuredClone(results[i]!) };
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      for (const e of batch) e.outcome ??= { ok: false, error: new Error(message) };
    } finally {
      queue.busy = false;
      if (queue.waiting.length === 0 && this.queues.get(tenantId) === queue) this.queues.delete(tenantId);
    }
    return unwrap(entry.outcome!);
  }

  private queueOf(tenantId: string): Queue<In, Out> {
    let queue = this.queues.get(tenantId);
    if (!queue) {
      queue = { waiting: [], busy: false, since: 0 };
      this.queues.set(tenantId, queue);
    }
    return queue;
  }
}

/** The longest a waiter sleeps between looks (it starts at 1 ms and doubles). */
const MAX_PAUSE_MS = 4;

type Outcome<Out> = { ok: true; value: Out } | { ok: false; error: Error };
type Entry<In, Out> = { item: In; outcome?: Outcome<Out> };
type Queue<In, Out> = { waiting: Entry<In, Out>[]; busy: boolean; since: number };

function unwrap<Out>(outcome: Outcome<Out>): Out {
  if (outcome.ok) return outcome.value;
  throw outcome.error;
}
