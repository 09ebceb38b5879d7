/**
 * Finding repeated facility_ids within one source without keeping the ids themselves.
 *
 * Each id is reduced to a 64-bit hash (two independent 32-bit hashes). Pass 1 appends every valid
 * record's hash and line to typed arrays (12 bytes per record, written sequentially: no cache
 * misses, no per-entry objects for the garbage collector) and, at its end, sorts a copy of the
 * hashes natively to see whether any repeats (about 60 ms for a million). Only then, and only if
 * one does, an open-addressing table from hash to the line of the latest record is built for
 * pass 2 (at most 24 bytes per distinct id). About 12-20 MB per million records in all, against
 * some 400 MB of source: this is the only memory that grows with the source.
 *
 * Two different ids share a hash with probability about n^2 / 2^65 (3e-8 for a million ids); such
 * a pair would be treated as a repeat, which the rejected output shows ("superseded by line N",
 * with the original text) rather than hiding.
 */
const INITIAL_RECORDS = 1 << 12;

/** The hashes and lines of pass 1's valid records, in source order. */
export class FacilityIdLog {
  private keys = new BigUint64Array(INITIAL_RECORDS);
  private halves = new Int32Array(this.keys.buffer);
  private lines = new Int32Array(INITIAL_RECORDS);
  /** Records added. */
  size = 0;

  /** Records that the valid record on `line` has this id. */
  add(id: string, line: number): void {
    if (this.size === this.lines.length) this.grow();
    hash(id);
    // The two halves of the 64-bit key; which is which does not matter, keys are only compared.
    this.halves[this.size * 2] = hashedLow;
    this.halves[this.size * 2 + 1] = hashedHigh;
    this.lines[this.size] = line;
    this.size++;
  }

  /** True when some id (hash) was added more than once. */
  hasRepeats(): boolean {
    const sorted = this.keys.slice(0, this.size).sort();
    for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) return true;
    return false;
  }

  /** The table from each id to the line of its latest valid record. */
  latestLines(): LatestLineIndex {
    const index = new LatestLineIndex(this.size);
    for (let i = 0; i < this.size; i++) index.put(this.halves[i * 2 + 1], this.halves[i * 2], this.lines[i]);
    return index;
  }

  private grow(): void {
    const keys = new BigUint64Array(this.keys.length * 2);
    keys.set(this.keys);
    const lines = new Int32Array(this.lines.length * 2);
    lines.set(this.lines);
    this.keys = keys;
    this.halves = new Int32Array(keys.buffer);
    this.lines = lines;
  }
}

const EMPTY_LINE = 0;
/** Int32 values per slot: hash high, hash low, line. Interleaved, so a lookup touches one cache line. */
const STRIDE = 3;

/** An open-addressing hash table (linear probing, at most half full) from an id's hash to a line. */
export class LatestLineIndex {
  private readonly capacity: number;
  private readonly slots: Int32Array;

  constructor(expectedIds: number) {
    let capacity = 16;
    while (capacity < expectedIds * 2) capacity *= 2;
    this.capacity = capacity;
    this.slots = new Int32Array(capacity * STRIDE);
  }

  /** The line of the latest valid record with `id`, or 0 if there is none. */
  lineOf(id: string): number {
    hash(id);
    return this.slots[this.find(hashedHigh, hashedLow) + 2];
  }

  /** Sets the line of a hash (the later call wins). */
  put(high: number, low: number, line: number): void {
    const at = this.find(high, low);
    this.slots[at] = high;
    this.slots[at + 1] = low;
    this.slots[at + 2] = line;
  }

  private find(high: number, low: number): number {
    const mask = this.capacity - 1;
    for (let slot = low & mask; ; slot = (slot + 1) & mask) {
      const at = slot * STRIDE;
      if (this.slots[at + 2] === EMPTY_LINE || (this.slots[at] === high && this.slots[at + 1] === low)) return at;
    }
  }
}

let hashedHigh = 0;
let hashedLow = 0;

/** Two 32-bit hashes of the UTF-16 code units (FNV-1a and a murmur-style mix), each finalized with murmur3's fmix32. */
function hash(id: string): void {
  let a = 0x811c9dc5 ^ id.length;
  let b = 0x9747b28c ^ id.length;
  for (let i = 0; i < id.length; i++) {
    const unit = id.charCodeAt(i);
    a = Math.imul(a ^ unit, 0x01000193);
    b = Math.imul(b ^ unit, 0x5bd1e995);
    b ^= b >>> 15;
  }
  hashedHigh = fmix32(a);
  hashedLow = fmix32(b);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
