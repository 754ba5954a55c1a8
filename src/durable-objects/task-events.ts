import type { TaskView } from "../domain/task-record";

const encoder = new TextEncoder();
const noop = () => undefined;

/** Open streams a tenant's object allows (SSE_MAX_STREAMS_PER_TASK, SSE_MAX_STREAMS_PER_TENANT). */
export interface StreamLimits {
  perTask: number;
  perTenant: number;
}

/** A stream that was not opened, and the limit it met. */
export interface StreamRefusal {
  refused: "per_task" | "per_tenant";
  limit: number;
}

/** Every this often, an idle listener gets a comment line: a client that went away shows as a failed write. */
export const HEARTBEAT_MS = 5_000;
/** A listener that has not taken a write for this long is dropped: it stopped reading or went away unseen. */
export const STALL_MS = 15_000;
const KEEPALIVE = encoder.encode(": keep-alive\n\n");

/** One open stream: at most one write in flight and one newest frame waiting, whatever the rate of changes. */
interface Listener {
  taskId: string;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  /** When the write in flight began (the object's clock); null when none is. */
  busySince: number | null;
  /** The newest frame not yet written; a slow reader skips the states in between and gets the latest. */
  next: Uint8Array | null;
  /** The task ended: close once the last frame is written. */
  closing: boolean;
  dropped: boolean;
}

/**
 * The open server-sent-event streams of a tenant's tasks: the current state first, then every change
 * (or, for a reader that falls behind, the latest). Bounded (SPEC §13): a number of streams per task and
 * per tenant, a fixed memory per stream, and a stream whose reader is gone is released within a minute.
 */
export class TaskEvents {
  private readonly listeners = new Map<string, Set<Listener>>();
  private count = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly clock: () => number) {}

  /**
   * A new stream for one task that starts with `view` and ends at once when the task is already terminal;
   * `hold` leaves `view` out and waits for the next publication (a completed task whose videos are being
   * archived). A stream that would stay open beyond `limits` is refused instead.
   */
  open(view: TaskView, terminal: boolean, opts: { hold?: boolean; limits: StreamLimits }): ReadableStream<Uint8Array> | StreamRefusal {
    if (!terminal) {
      if ((this.listeners.get(view.id)?.size ?? 0) >= opts.limits.perTask) return { refused: "per_task", limit: opts.limits.perTask };
      if (this.count >= opts.limits.perTenant) return { refused: "per_tenant", limit: opts.limits.perTenant };
    }
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const first = encoder.encode(`retry: 3000\n\n${opts.hold ? "" : frame(view)}`);
    if (terminal) {
      void writer.write(first).catch(noop);
      void writer.close().catch(noop);
      return readable;
    }
    const listener: Listener = { taskId: view.id, writer, busySince: null, next: null, closing: false, dropped: false };
    const set = this.listeners.get(view.id) ?? new Set();
    set.add(listener);
    this.listeners.set(view.id, set);
    this.count++;
    // A reader that cancels is forgotten at once; one that vanishes unseen, at the next heartbeat or stall.
    void writer.closed.catch(() => this.drop(listener));
    this.send(listener, first);
    this.timer ??= setInterval(() => this.heartbeat(this.clock()), HEARTBEAT_MS);
    return readable;
  }

  /** Sends a change to the task's listeners; after a terminal state their streams end. */
  publish(view: TaskView, terminal: boolean): void {
    const set = this.listeners.get(view.id);
    if (!set) return;
    const bytes = encoder.encode(frame(view));
    for (const listener of set) {
      if (listener.closing) continue;
      listener.closing = terminal;
      this.send(listener, bytes);
    }
  }

  /** Keeps idle streams alive (a failed write drops one) and drops streams whose reader has taken nothing for STALL_MS. */
  heartbeat(now: number): void {
    for (const set of [...this.listeners.values()]) {
      for (const listener of [...set]) {
        if (listener.busySince === null) {
          if (!listener.closing) this.send(listener, KEEPALIVE);
        } else if (now - listener.busySince >= STALL_MS) {
          this.drop(listener);
          void listener.writer.abort(new Error("the reader stopped reading")).catch(noop);
        }
      }
    }
  }

  /** Whether anyone listens to the task. */
  has(taskId: string): boolean {
    return this.listeners.has(taskId);
  }

  /** Open streams, for the operator's view of the object. */
  get size(): number {
    return this.count;
  }

  /** Writes `bytes` now, or (a write still in flight) keeps them as the one frame to write next. */
  private send(listener: Listener, bytes: Uint8Array): void {
    if (listener.dropped) return;
    if (listener.busySince !== null) {
      listener.next = bytes;
      return;
    }
    listener.busySince = this.clock();
    listener.writer.write(bytes).then(
      () => {
        listener.busySince = null;
        const next = listener.next;
        listener.next = null;
        if (next) return this.send(listener, next);
        if (!listener.closing) return;
        this.drop(listener);
        void listener.writer.close().catch(noop);
      },
      () => this.drop(listener),
    );
  }

  private drop(listener: Listener): void {
    if (listener.dropped) return;
    listener.dropped = true;
    listener.next = null;
    this.count--;
    const set = this.listeners.get(listener.taskId);
    set?.delete(listener);
    if (set?.size === 0) this.listeners.delete(listener.taskId);
    if (this.count === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}

function frame(view: TaskView): string {
  return `id: ${view.status}\nevent: status\ndata: ${JSON.stringify(view)}\n\n`;
}
