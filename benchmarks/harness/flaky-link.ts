/**
 * Bad mobile networks, simulated at the client: added latency (half on the way
 * out, half on the way back, with jitter) and connections that drop at random.
 */
export interface NetworkOptions {
  /** Mean added round-trip latency in ms (0 = loopback as is). */
  readonly latencyMs: number;
  /** Probability per client per second that its connection drops. */
  readonly dropRate: number;
}

export class FlakyLink {
  constructor(private readonly network: NetworkOptions) {}

  get dropsConnections(): boolean {
    return this.network.dropRate > 0;
  }

  /** Runs `action` after one-way latency (immediately on a perfect network). */
  oneWay(action: () => void): void {
    if (this.network.latencyMs <= 0) return action();
    const half = this.network.latencyMs / 2;
    setTimeout(action, half * (0.5 + Math.random()));
  }

  /** Milliseconds until this client's connection next drops (exponential), or undefined if it never does. */
  nextDropInMs(): number | undefined {
    if (this.network.dropRate <= 0) return undefined;
    return (-Math.log(1 - Math.random()) / this.network.dropRate) * 1000;
  }
}
