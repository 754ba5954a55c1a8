import type { TaskView } from "../domain/task-record";

const encoder = new TextEncoder();

/** The open server-sent-event streams of one task object: the current state first, then every change. */
export class TaskEvents {
  private readonly writers = new Set<WritableStreamDefaultWriter<Uint8Array>>();

  /** A new stream that starts with `view` and closes at once when the task is already terminal. */
  open(view: TaskView, terminal: boolean): Response {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    void writer.write(encoder.encode(`retry: 3000\n\n${frame(view)}`)).catch(() => undefined);
    if (terminal) void writer.close().catch(() => undefined);
    else this.writers.add(writer);
    return new Response(readable, {
      headers: { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache, no-transform", Connection: "keep-alive" },
    });
  }

  /** Sends a change to every listener; after a terminal state the streams end. */
  publish(view: TaskView, terminal: boolean): void {
    const bytes = encoder.encode(frame(view));
    for (const writer of this.writers) {
      void writer.write(bytes).catch(() => this.writers.delete(writer));
      if (terminal) void writer.close().catch(() => undefined);
    }
    if (terminal) this.writers.clear();
  }
}

function frame(view: TaskView): string {
  return `id: ${view.status}\nevent: status\ndata: ${JSON.stringify(view)}\n\n`;
}
