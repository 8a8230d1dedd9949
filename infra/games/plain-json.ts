/**
 * Is a value plain JSON? States are persisted, replayed and sent to other
 * nodes as JSON, so anything JSON would drop or change (undefined, NaN, a Map,
 * a class instance, a cycle) is a bug that shows up only later, far from its
 * cause. This finds the first such place and names its path.
 */

/** Where and why `value` is not plain JSON, e.g. "state.board[2] is undefined", or null if it is. */
export function findNonJson(value: unknown, name: string): string | null {
  return walk(value, name, new Set());
}

function walk(value: unknown, at: string, ancestors: Set<object>): string | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : `${at} is ${value} (JSON has no such number)`;
  if (typeof value !== 'object') return `${at} is ${typeof value === 'function' ? 'a function' : typeof value}`;
  if (ancestors.has(value)) return `${at} refers back to one of its parents (a cycle)`;
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (!(i in value)) return `${at}[${i}] is a hole in the array`;
        const problem = walk(value[i], `${at}[${i}]`, ancestors);
        if (problem) return problem;
      }
      return null;
    }
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      const kind = (value as { constructor?: { name?: unknown } }).constructor?.name;
      return `${at} is ${typeof kind === 'string' && kind !== '' ? `a ${kind}` : 'not a plain object'}`;
    }
    if (Object.getOwnPropertySymbols(value).length > 0) return `${at} has symbol keys`;
    for (const [key, item] of Object.entries(value)) {
      const problem = walk(item, `${at}${/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}`, ancestors);
      if (problem) return problem;
    }
    return null;
  } finally {
    // shared (non-cyclic) references are fine: JSON just writes them twice
    ancestors.delete(value);
  }
}
