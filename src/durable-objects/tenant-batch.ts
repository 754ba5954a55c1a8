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
  /** How long a call takes, on average lately (ms): what waiters sleep before their first look. */
  private callMs = MIN_PAUSE_MS;

  constructor(private readonly staleMs = 5_000) {}

  /** `item`'s result, from the call that carried it (made with the `send` of the request that made it); rejects when that call failed. */
  async call(tenantId: string, item: In, send: (items: In[]) => Promise<Out[]>): Promise<Out> {
    const queue = this.queueOf(tenantId);
    const entry: Entry<In, Out> = { item };
    queue.waiting.push(entry);
    while (queue.busy && Date.now() - queue.since < this.staleMs) {
      // Sleep until about when the call in flight should end, then look every few ms.
      const pause = Math.min(Math.max(queue.since + this.callMs - Date.now(), MIN_PAUSE_MS), MAX_PAUSE_MS);
      await new Promise((resolve) => setTimeout(resolve, pause));
      if (entry.outcome) return unwrap(entry.outcome);
    }
    // No call in flight (or it was lost): this request makes one, for itself and everyone waiting.
    queue.busy = true;
    queue.since = Date.now();
    const at = queue.waiting.indexOf(entry);
    if (at >= MAX_BATCH) queue.waiting.splice(at, 1); // far back in a backlog: goes in its own call, first
    const batch = queue.waiting.splice(0, at >= MAX_BATCH ? MAX_BATCH - 1 : MAX_BATCH);
    if (!batch.includes(entry)) batch.push(entry); // (or already in a call that did not end in time: sent again)
    try {
      const results = await send(batch.map((e) => e.item));
      this.callMs = 0.8 * this.callMs + 0.2 * (Date.now() - queue.since);
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

  /**
   * Hands `item` over without waiting for its result (a record made after the client has its answer).
   * With a call in flight it is left for that call's maker, which goes on sending what arrived meanwhile,
   * for at most `staleMs`; otherwise this request makes the calls. Resolves when this request has no more
   * calls to make; a failed call is reported through `failed` and its items are not sent again.
   */
  async post(tenantId: string, item: In, send: (items: In[]) => Promise<unknown>, failed: (error: unknown, items: In[]) => void): Promise<void> {
    const queue = this.queueOf(tenantId);
    queue.waiting.push({ item });
    if (queue.busy && Date.now() - queue.since < this.staleMs) return;
    queue.busy = true;
    const started = Date.now();
    queue.since = started;
    try {
      while (queue.waiting.length && Date.now() - started < this.staleMs) {
        const items = queue.waiting.splice(0, MAX_BATCH).map((e) => e.item);
        await send(items).catch((error: unknown) => failed(error, items));
        queue.since = Date.now();
      }
    } finally {
      queue.busy = false;
      if (queue.waiting.length === 0 && this.queues.get(tenantId) === queue) this.queues.delete(tenantId);
    }
  }

  /** `post` for each of several items; resolves when this request has no more calls to make for any of them. */
  async postAll(tenantId: string, items: In[], send: (items: In[]) => Promise<unknown>, failed: (error: unknown, items: In[]) => void): Promise<void> {
    await Promise.all(items.map((item) => this.post(tenantId, item, send, failed)));
  }

  /** Whether a call for this tenant is in flight or has requests waiting for the next one. */
  busy(tenantId: string): boolean {
    const queue = this.queues.get(tenantId);
    return queue !== undefined && (queue.busy || queue.waiting.length > 0);
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

/** The most items one call carries: a bigger backlog goes in the calls after it. */
const MAX_BATCH = 100;
/** A waiter's sleep between looks: at least 2 ms, at most 16 ms. */
const MIN_PAUSE_MS = 2;
const MAX_PAUSE_MS = 16;

type Outcome<Out> = { ok: true; value: Out } | { ok: false; error: Error };
type Entry<In, Out> = { item: In; outcome?: Outcome<Out> };
type Queue<In, Out> = { waiting: Entry<In, Out>[]; busy: boolean; since: number };

function unwrap<Out>(outcome: Outcome<Out>): Out {
  if (outcome.ok) return outcome.value;
  throw outcome.error;
}
