/**
 * When the next training round is due: after `everyRecords` new records (the first round after
 * `firstRoundAt`), or `everySeconds` after the last round if some records arrived, whichever comes
 * first; or early, once `driftRecords` new records arrived, while the records arriving fit no
 * cluster (`drifting`, from the novelty monitor). Pure, so the policy is testable without a trainer.
 */
export interface ScheduleSettings {
  readonly firstRoundAt: number;
  readonly everyRecords: number;
  readonly everySeconds?: number;
  /** New records a drift-triggered round waits for at least. */
  readonly driftRecords?: number;
}

export interface ScheduleState {
  readonly seen: number;
  readonly seenAtLastRound: number;
  readonly rounds: number;
  readonly lastRoundAtMs: number;
}

export function roundDue(s: ScheduleSettings, state: ScheduleState, nowMs: number, drifting = false): boolean {
  const fresh = state.seen - state.seenAtLastRound;
  if (state.rounds === 0) return state.seen >= s.firstRoundAt;
  if (fresh <= 0) return false;
  if (fresh >= s.everyRecords) return true;
  if (drifting && s.driftRecords !== undefined && fresh >= s.driftRecords) return true;
  return s.everySeconds !== undefined && nowMs - state.lastRoundAtMs >= s.everySeconds * 1000;
}
