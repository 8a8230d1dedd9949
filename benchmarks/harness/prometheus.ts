/**
 * Reading a server's Prometheus /metrics from the load tester: the text
 * format parsed into samples, summed over every process of a target (a
 * cluster's gateways and workers), differences between two reads (what
 * happened in the measured window), and quantiles from histogram buckets the
 * way Prometheus's histogram_quantile computes them.
 */

/** One line of the text format: `name{label="value",...} number`. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of every endpoint, one after the other (sum them with the helpers below). */
export async function scrape(urls: readonly string[], timeoutMs = 5_000): Promise<Sample[]> {
  const texts = await Promise.all(urls.map(async (url) => (await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })).text()));
  return texts.flatMap(parseMetrics);
}

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of `name` over every sample whose labels include `where`. */
export function total(samples: readonly Sample[], name: string, where: Readonly<Record<string, string>> = {}): number {
  return samples.filter((s) => s.name === name && matches(s, where)).reduce((sum, s) => sum + s.value, 0);
}

/** `name` summed per value of `label` (e.g. queue depth per priority). */
export function byLabel(samples: readonly Sample[], name: string, label: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const s of samples) {
    const key = s.labels[label];
    if (s.name !== name || key === undefined) continue;
    sums.set(key, (sums.get(key) ?? 0) + s.value);
  }
  return sums;
}

/** A histogram's cumulative buckets (upper bound → count, +Inf last), its sum and count. */
export interface Histogram {
  readonly buckets: ReadonlyArray<readonly [number, number]>;
  readonly sum: number;
  readonly count: number;
}

/** The histogram `name` (base name, without _bucket) over the samples matching `where`, summed over processes. */
export function histogram(samples: readonly Sample[], name: string, where: Readonly<Record<string, string>> = {}): Histogram {
  const buckets = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || !matches(s, where) || s.labels.le === undefined) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + s.value);
  }
  return {
    buckets: [...buckets.entries()].sort((a, b) => a[0] - b[0]),
    sum: total(samples, `${name}_sum`, where),
    count: total(samples, `${name}_count`, where),
  };
}

/** What was observed between two reads of the same histogram. */
export function difference(after: Histogram, before: Histogram): Histogram {
  const earlier = new Map(before.buckets);
  return {
    buckets: after.buckets.map(([le, count]) => [le, count - (earlier.get(le) ?? 0)] as const),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  };
}

/**
 * The q-quantile (0..1), interpolated linearly inside its bucket as
 * Prometheus does; past the last finite bound, that bound (the true value is
 * only known to be larger). 0 for an empty histogram.
 */
export function quantile(h: Histogram, q: number): number {
  const count = h.buckets.at(-1)?.[1] ?? 0;
  if (count <= 0) return 0;
  const rank = q * count;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, cumulative] of h.buckets) {
    if (cumulative >= rank) {
      if (le === Infinity) return lowerBound;
      const inBucket = cumulative - lowerCount;
      return inBucket > 0 ? lowerBound + (le - lowerBound) * ((rank - lowerCount) / inBucket) : le;
    }
    lowerBound = le;
    lowerCount = cumulative;
  }
  return lowerBound;
}

function matches(sample: Sample, where: Readonly<Record<string, string>>): boolean {
  return Object.entries(where).every(([label, value]) => sample.labels[label] === value);
}
