/**
 * A small seeded pseudo-random generator (sfc32, seeded through splitmix32), so that generated
 * data is the same bytes on every machine and Node version: it uses only 32-bit integer
 * arithmetic, never Math.random or transcendental functions whose last bits may vary.
 */

/** splitmix32: spreads a 32-bit seed over the state; consecutive seeds give unrelated streams. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

/** Mixes two 32-bit numbers (e.g. a file's seed and a record's index) into one seed. */
export function mixSeeds(a: number, b: number): number {
  let h = Math.imul(a ^ 0x27d4eb2f, 0x165667b1) ^ b;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15)) >>> 0;
}

/** A value and its weight; weights are whole numbers. */
export type Weighted<T> = readonly [value: T, weight: number];

/** A weighted choice, prepared once: cumulative weights searched by bisection. */
export class WeightedTable<T> {
  private readonly values: readonly T[];
  private readonly cumulative: Uint32Array;
  readonly total: number;

  constructor(entries: readonly Weighted<T>[]) {
    if (entries.length === 0) throw new Error("WeightedTable: no entries");
    this.values = entries.map(([value]) => value);
    this.cumulative = new Uint32Array(entries.length);
    let total = 0;
    entries.forEach(([, weight], i) => {
      if (!Number.isInteger(weight) || weight <= 0)
        throw new Error(`WeightedTable: weight ${weight} is not a positive integer`);
      total += weight;
      this.cumulative[i] = total;
    });
    this.total = total;
  }

  /** The value whose cumulative range holds `ticket` (0 <= ticket < total). */
  at(ticket: number): T {
    let low = 0;
    let high = this.cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (ticket < this.cumulative[middle]) high = middle;
      else low = middle + 1;
    }
    return this.values[low];
  }
}

export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let state = seed | 0;
    [state, this.a] = splitmix32(state);
    [state, this.b] = splitmix32(state);
    [state, this.c] = splitmix32(state);
    [, this.d] = splitmix32(state);
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A number in [0, 1) with 32 random bits. */
  fraction(): number {
    return this.uint32() / 4294967296;
  }

  /** A whole number from `min` to `max`, both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.fraction() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.fraction() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.fraction() * items.length)];
  }

  weighted<T>(table: WeightedTable<T>): T {
    return table.at(Math.floor(this.fraction() * table.total));
  }

  /** `count` distinct items of `items` (all of them when there are fewer), in random order. */
  distinct<T>(items: readonly T[], count: number): T[] {
    const pool = [...items];
    const taken: T[] = [];
    while (taken.length < count && pool.length > 0) taken.push(pool.splice(this.int(0, pool.length - 1), 1)[0]);
    return taken;
  }
}
