import { assertMicros, type ReserveRequest, type ReserveResult } from "../domain/ledger";
import type { TaskViewer } from "../domain/tenant";
import type { LedgerStore } from "./ledger-store";
import type { TaskStore } from "./task-store";
import { LATE_CALL_MS } from "./tenant-api";

/** A hold still open after this long lost its request (a crash mid-stream): the alarm charges it. */
export const HOLD_MAX_MS = 15 * 60_000;

/** Task references a request names (`source_task_id`, …) and who names them: answered as RunAPI's ids. */
export type HoldRefs = { references: Record<string, string>; viewer: TaskViewer };
/** The answer to a hold: held (with the references as RunAPI's ids), or the first reason it was refused. */
export type Held = ReserveResult | { ok: false; code: "invalid_reference"; field: string };
/** The answer within a gathered call: also `failed` when the call came too late to hold anything (its sender gave up). */
export type HoldResult = Held | { ok: false; code: "failed" };
/** One reservation of a gathered call (`TenantLedger.reserveMany`). */
export type HoldRequest = { req: ReserveRequest; refs?: HoldRefs };
/** One closing of a gathered call (`TenantLedger.settleMany`): a charge (settle) or none (release, with its reason). */
export type HoldClose =
  | { holdId: string; settle: true; chargeMicros: number; now: number; note: string | null; costMicros?: number }
  | { holdId: string; settle: false; now: number; reason: string };

/**
 * Money held for one request that is not a task (a chat completion, a synchronous action, a priced upload): held
 * before the request goes to RunAPI, then settled at its actual charge or released, exactly once. Each call is its
 * own synchronous transaction (the check and the write of a budget with no `await` between); the object runs many
 * of them per call and commit when the Worker gathers them.
 */
export class HoldDesk {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly ledger: LedgerStore,
    private readonly tasks: TaskStore,
    private readonly now: () => number,
    /** What the object does once holds are made: count them, keep its alarm in time for their deadline. */
    private readonly held: (reqs: ReserveRequest[], holdUntil: number, alerted: boolean) => Promise<void>,
  ) {}

  /** One hold (see `reserve`), then what follows a hold. */
  async reserveOne(req: ReserveRequest, refs?: HoldRefs): Promise<Held> {
    return (await this.reserveMany([{ req, refs }]))[0] as Held;
  }

  /**
   * Holds gathered by the Worker, each in its own transaction, all in one commit, after the closings of ended holds that
   * rode in the same call; a call delivered too late (`sentAt`) holds none.
   */
  async reserveMany(items: HoldRequest[], sentAt?: number, closes: HoldClose[] = []): Promise<HoldResult[]> {
    this.close(closes); // closings of ended requests that rode along: never late, each exactly once
    if (sentAt !== undefined && Date.now() - sentAt > LATE_CALL_MS) return items.map(() => ({ ok: false, code: "failed" as const }));
    const holdUntil = this.now() + HOLD_MAX_MS;
    const alertsBefore = this.ledger.alertsQueued;
    const results = items.map(({ req, refs }) => this.reserve(req, refs, holdUntil));
    const made = items.filter((_, i) => results[i]!.ok).map((i) => i.req);
    if (made.length) await this.held(made, holdUntil, this.ledger.alertsQueued > alertsBefore);
    return results;
  }

  /** Holds `req.amountMicros` until `holdUntil` (the object's clock) unless a limit or a budget refuses it; a retried id holds nothing more. */
  reserve(req: ReserveRequest, refs: HoldRefs | undefined, holdUntil: number): Held {
    return this.storage.transactionSync((): Held => {
      const resolved = refs ? this.tasks.references(refs.references, refs.viewer) : { ok: true as const, upstreamRefs: {} };
      if (!resolved.ok) return resolved;
      const upstreamRefs = resolved.upstreamRefs;
      if (this.ledger.reservation(req.taskId)?.state === "open") return { ok: true, budgets: this.ledger.usage(req.now, req.budgets), upstreamRefs };
      const hold = req.idempotency === null ? req : { ...req, idempotency: null };
      const refused = this.ledger.admit(hold, "hold");
      if (refused) return refused.code === "idempotent_replay" ? { ok: false, code: "idempotency_conflict" } : refused;
      return { ok: true, budgets: this.ledger.hold(hold, "hold", holdUntil), upstreamRefs };
    });
  }

  /** Moves a hold to spent at the actual charge, exactly once; later calls return the recorded charge. */
  settle(holdId: string, chargeMicros: number, now: number, note: string | null, costMicros?: number): { settled: boolean; charged_micros: number } {
    assertMicros("chargeMicros", chargeMicros, { nonNegative: true });
    return this.storage.transactionSync(() => {
      const r = this.ledger.reservation(holdId);
      if (r?.kind !== "hold") return { settled: false, charged_micros: 0 };
      if (r.state !== "open") return { settled: false, charged_micros: r.charged_micros ?? 0 };
      this.ledger.close(holdId, "settled", chargeMicros, now, note, costMicros, r);
      return { settled: true, charged_micros: chargeMicros };
    });
  }

  /** Frees a hold without charge, exactly once. */
  release(holdId: string, now: number, reason: string): { released: boolean } {
    return this.storage.transactionSync(() => {
      const r = this.ledger.reservation(holdId);
      return { released: r?.kind === "hold" && this.ledger.close(holdId, "released", 0, now, reason, undefined, r) };
    });
  }

  /** Closes gathered holds, each in its own transaction; one that fails (a bad charge) is reported, the others go on. */
  close(items: HoldClose[]): boolean[] {
    return items.map((c) => {
      try {
        return c.settle ? this.settle(c.holdId, c.chargeMicros, c.now, c.note, c.costMicros).settled : this.release(c.holdId, c.now, c.reason).released;
      } catch {
        return false;
      }
    });
  }

  /** Charges the holds whose request was lost (open past their deadline) what they reserved. */
  chargeStale(now: number): void {
    this.storage.transactionSync(() => {
      for (const hold of this.ledger.staleHolds(now, 100)) {
        this.ledger.close(hold.task_id, "settled", hold.amount_micros, now, "hold never closed: its request was lost mid-flight; charged the amount reserved");
      }
    });
  }
}
