// Keeps a green `npm test` quiet. Two kinds of output are dropped, both on purpose and both narrow:
// - workerd runtime messages that the test harness or a test provokes deliberately (listed below, each with why);
//   @cloudflare/vitest-pool-workers writes workerd's logs straight to process.stdout/stderr (unstructured lines to
//   stdout), so this filters there;
// - the proxy's own structured log lines (`{"level":…}`, src/lib/log.ts), which test-node/access-log.test.ts asserts.
// VITEST_SHOW_LOGS=1 shows everything.

const RUNTIME_NOISE = [
  // vitest-pool-workers closes each test file's runner WebSocket when the file ends (its own ignore list has the
  // sibling "WebSocket was aborted" but not this one).
  /disconnected: WebSocket peer disconnected/,
  // test/ledger.test.ts calls TenantLedger RPC methods with bad input and asserts the caller gets the RangeError;
  // workerd also reports the exception on the object's side.
  /uncaught exception; source = Uncaught \(in promise\); stack = RangeError: (chargeMicros must be|an adjustment must not be zero|invalid cursor)/,
  // test/outcome-unknown.test.ts has TenantLedger RPC methods lose their answer on purpose; workerd also reports it.
  /uncaught exception; source = Uncaught \(in promise\); stack = Error: simulated lost answer/,
  // test/lifecycle.test.ts aborts a task object (`state.abort("simulated eviction")`) to simulate an eviction.
  /broken\.outputGateBroken; jsg\.Error: simulated eviction/,
  // workerd's internal note when a test moves a Durable Object alarm by hand.
  /^NOSENTRY SQLite alarm overdue/,
  // test/http-validation.test.ts streams a body over MAX_BODY_BYTES: the proxy stops reading at the limit
  // (src/lib/body.ts cancels the reader) and answers 413, so workerd aborts the sending side's pipe. The
  // "Network connection lost" rejection of that sender is dropped only right after this message (see below).
  /disconnected: read end of pipe was aborted/,
  // A stream pump torn down when its reader goes away (a client that stops reading an event stream).
  /disconnected: PumpToReader was destroyed/,
  // test/event-streams.test.ts leaves event streams on purpose (a client that cancels, one that stops reading): the
  // tenant object's heartbeat then writes into the relay of a stream whose reader is gone, and workerd reports the loss.
  /^uncaught exception; source = Uncaught \(in promise\); stack = Error: Network connection lost\.\s*$/,
  // The same test: the object ends a stalled stream (aborts its writer) while workerd still pumps it to the test.
  /disconnected: abortRead\(\) has been called/,
  // Tests give tenants webhook URLs under RFC 2606's reserved `.example` names, which never resolve; local
  // workerd logs each failed lookup with a native stack (the attempt itself is recorded on the task).
  /DNS lookup failed\.; params\.host = [\w.-]+\.example;/,
  // test/chat.test.ts and test/sim-chat.test.ts have the simulator cut a chat stream mid-way on purpose (sim/openai.ts
  // errors the stream); workerd also reports that stream error, as one line and its native stack.
  /uncaught exception; (source = Uncaught \(in promise\); stack = Error|exception = .*jsg\.Error): simulated connection cut/,
  // Vite, loading the standardwebhooks package (its published sourcemap names sources it does not ship).
  /^Sourcemap for ".*standardwebhooks\/dist\/index\.js" points to missing source files/,
];

/**
 * Follow-ups dropped only right after their cause (above): the sender's rejection after an aborted pipe, and
 * the "internal error" workerd reports for a fetch whose host did not resolve (the proxy catches the fetch's
 * own rejection; the report comes from workerd's side of it).
 */
const FOLLOW_UPS = [
  { cause: /read end of pipe was aborted/, message: /uncaught exception; source = Uncaught \(in promise\); stack = Error: Network connection lost\./ },
  {
    cause: /DNS lookup failed\./,
    message:
      /uncaught exception; (source = Uncaught \(in promise\); stack = Error|exception = \S+value\.h:\d+: failed: jsg\.Error): internal error; reference = /,
  },
];
const FOLLOW_UP_MS = 2_000;
const lastCause = new Map();

const showAll = () => process.env.VITEST_SHOW_LOGS === "1";

/** Filters process.stdout and process.stderr for the runtime messages above (call once, from the vitest config). */
export function quietRuntimeNoise() {
  if (showAll()) return;
  for (const stream of [process.stdout, process.stderr]) filter(stream);
}

function filter(stream) {
  if (stream.__quietRuntimeNoise) return;
  const write = stream.write.bind(stream);
  stream.write = (chunk, ...rest) => {
    const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : "";
    const noise = text && RUNTIME_NOISE.some((re) => re.test(text));
    if (noise) for (const f of FOLLOW_UPS) if (f.cause.test(text)) lastCause.set(f, Date.now());
    const followUp = text && FOLLOW_UPS.some((f) => f.message.test(text) && Date.now() - (lastCause.get(f) ?? 0) < FOLLOW_UP_MS);
    if (noise || followUp) {
      const callback = rest.find((a) => typeof a === "function");
      if (callback) callback();
      return true;
    }
    return write(chunk, ...rest);
  };
  stream.__quietRuntimeNoise = true;
}

/** vitest `onConsoleLog`: false (drop) for the proxy's structured log lines. */
export function dropStructuredLogs(log) {
  if (showAll()) return undefined;
  return /^\{"level":"(debug|info|warn|error)"/.test(log.trimStart()) ? false : undefined;
}
