import type { TaskView } from "../domain/task-record";

const encoder = new TextEncoder();

/** The open server-sent-event streams of a tenant's tasks: the current state first, then every change. */
export class TaskEvents {
  private readonly writers = new Map<string, Set<WritableStreamDefaultWriter<Uint8Array>>>();

  /**
   * A new stream for one task that starts with `view` and ends at once when the task is already terminal;
   * `hold` leaves `view` out and waits for the next publication (a completed task whose videos are being archived).
   */
  open(view: TaskView, terminal: boolean, opts: { hold?: boolean } = {}): ReadableStream<Uint8Array> {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    void writer.write(encoder.encode(`retry: 3000\n\n${opts.hold ? "" : frame(view)}`)).catch(() => undefined);
    if (terminal) void writer.close().catch(() => undefined);
    else {
      const set = this.writers.get(view.id) ?? new Set();
      set.add(writer);
      this.writers.set(view.id, set);
      // A listener that went away is forgotten when its next write fails.
      void writer.closed.catch(() => this.drop(view.id, writer));
    }
    return readable;
  }

  /** Sends a change to the task's listeners; after a terminal state their streams end. */
  publish(view: TaskView, terminal: boolean): void {
    const set = this.writers.get(view.id);
    if (!set) return;
    const bytes = encoder.encode(frame(view));
    for (const writer of set) {
      void writer.write(bytes).catch(() => this.drop(view.id, writer));
      if (terminal) void writer.close().catch(() => undefined);
    }
    if (terminal) this.writers.delete(view.id);
  }

  /** Whether anyone listens to the task. */
  has(taskId: string): boolean {
    return this.writers.has(taskId);
  }

  /** Open streams, for the operator's view of the object. */
  get size(): number {
    let n = 0;
    for (const set of this.writers.values()) n += set.size;
    return n;
  }

  private drop(taskId: string, writer: WritableStreamDefaultWriter<Uint8Array>): void {
    const set = this.writers.get(taskId);
    set?.delete(writer);
    if (set?.size === 0) this.writers.delete(taskId);
  }
}

function frame(view: TaskView): string {
  return `id: ${view.status}\nevent: status\ndata: ${JSON.stringify(view)}\n\n`;
}
