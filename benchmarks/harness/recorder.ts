/**
 * What a load worker measures, sent to the main thread as deltas twice a
 * second. Latencies travel as raw samples (ms) and are merged into one
 * histogram there.
 */
export interface Counters {
  /** Legal moves the server acknowledged as applied. */
  legalApplied: number;
  illegalSent: number;
  /** Illegal moves refused with one of the expected codes. */
  illegalRejected: number;
  /** Requests that failed with anything unexpected (code → count). */
  errors: Record<string, number>;
  /** Requests whose acknowledgement never came. */
  unanswered: number;
  /** Scenario-specific counts (deltas received, drops, reconnects...). */
  extra: Record<string, number>;
}

export interface Gauges {
  connected: number;
  /** Clients seated and playing. */
  playing: number;
  inFlight: number;
}

export interface WorkerReport {
  readonly type: 'report';
  readonly counters: Counters;
  readonly gauges: Gauges;
  /** Round-trip samples in milliseconds since the previous report. */
  readonly rtt: number[];
  /** Second latency series where a scenario has one (arena: input → observed position). */
  readonly observe: number[];
  /** Ids the clients saw since the previous report, by kind (persist: rooms, games seen ending). */
  readonly seen: Record<string, string[]>;
}

export function emptyCounters(): Counters {
  return { legalApplied: 0, illegalSent: 0, illegalRejected: 0, errors: {}, unanswered: 0, extra: {} };
}

export function addCounters(into: Counters, from: Counters): void {
  into.legalApplied += from.legalApplied;
  into.illegalSent += from.illegalSent;
  into.illegalRejected += from.illegalRejected;
  into.unanswered += from.unanswered;
  for (const [code, n] of Object.entries(from.errors)) into.errors[code] = (into.errors[code] ?? 0) + n;
  for (const [key, n] of Object.entries(from.extra)) into.extra[key] = (into.extra[key] ?? 0) + n;
}

export class Recorder {
  counters = emptyCounters();
  readonly gauges: Gauges = { connected: 0, playing: 0, inFlight: 0 };
  private rtt: number[] = [];
  private observe: number[] = [];
  private seen: Record<string, string[]> = {};

  error(code: string): void {
    this.counters.errors[code] = (this.counters.errors[code] ?? 0) + 1;
  }

  count(key: string, n = 1): void {
    this.counters.extra[key] = (this.counters.extra[key] ?? 0) + n;
  }

  roundTrip(ms: number): void {
    this.rtt.push(ms);
  }

  observed(ms: number): void {
    this.observe.push(ms);
  }

  /** Something the clients saw, for checks against the server's stores after the run (a room id, a game that ended). */
  saw(kind: string, id: string): void {
    (this.seen[kind] ??= []).push(id);
  }

  /** The deltas since the last call. */
  take(): WorkerReport {
    const report: WorkerReport = { type: 'report', counters: this.counters, gauges: { ...this.gauges }, rtt: this.rtt, observe: this.observe, seen: this.seen };
    this.counters = emptyCounters();
    this.rtt = [];
    this.observe = [];
    this.seen = {};
    return report;
  }
}
