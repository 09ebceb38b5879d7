/**
 * Finding repeated facility_ids within one source without keeping the ids themselves.
 *
 * Each id is reduced to a 64-bit hash (two independent 32-bit hashes). Pass 1 appends every valid
 * record's hash and the distance from the previous valid record's line (usually 1 or 2, one byte)
 * to fixed blocks of 64 Ki records: 9 bytes per record, written sequentially, never copied, no
 * per-entry objects for the garbage collector. A log that doubled one array left the old copies
 * allocated until a major GC, and a sort of all the hashes needed a copy as large as the log.
 *
 * At its end, `hasRepeats()` looks for equal hashes a slice of the hash space at a time: it
 * gathers the hashes whose top bits fall in the slice into a scratch array (an eighth of the
 * hashes, one more byte per record), sorts it natively and compares neighbours; about 80 ms for a
 * million, one scan of the log per gather. About 10 bytes per record at the peak, 10 MB per
 * million against some 460 MB of source: the only memory that grows with the source.
 *
 * Only if some id repeats, `latestLines()` builds a table of the repeated ids alone (their count
 * and the line of their latest valid record) for pass 2, which then learns of each valid record
 * whether a later one supersedes it.
 *
 * Two different ids share a hash with probability about n^2 / 2^65 (3e-8 for a million ids); such
 * a pair would be treated as a repeat, which the rejected output shows ("superseded by line N",
 * with the original text) rather than hiding.
 */
const BLOCK_RECORDS = 1 << 16;
/** A line delta that does not fit a byte: the line itself is in `escapedLines`. */
const ESCAPED_DELTA = 255;
/** The hash space is cut into 2^8 slices by the top bits of one half; a gather takes several. */
const SLICE_BITS = 8;
const SLICES = 1 << SLICE_BITS;
/** Scratch for the repeat search: an eighth of the records (at least one block), so about 8 gathers. */
const SCRATCH_SHARE = 8;

/** The hashes and lines of pass 1's valid records, in source order. */
export class FacilityIdLog {
  /** Per block, each record's hash as two Int32 halves (the layout of one 64-bit element). */
  private readonly hashBlocks: Int32Array[] = [];
  /** Per block, each record's line minus the previous record's line, or ESCAPED_DELTA. */
  private readonly lineDeltaBlocks: Uint8Array[] = [];
  /** The lines whose delta is ESCAPED_DELTA, in order. */
  private readonly escapedLines: number[] = [];
  private hashes = new Int32Array(0);
  private lineDeltas = new Uint8Array(0);
  private lastLine = 0;
  /** Distinct hashes added more than once, once `hasRepeats()` has counted them. */
  private repeatedIds: number | undefined;
  /** Records added. */
  size = 0;

  /** Records that the valid record on `line` (1 or more, never less than the last one's) has this id. */
  add(id: string, line: number): void {
    const offset = this.size & (BLOCK_RECORDS - 1);
    if (offset === 0) this.addBlock();
    hash(id);
    // Which half is which does not matter: hashes are only compared, and sorted to group equal ones.
    this.hashes[offset * 2] = hashedLow;
    this.hashes[offset * 2 + 1] = hashedHigh;
    const delta = line - this.lastLine;
    if (delta >= 0 && delta < ESCAPED_DELTA) {
      this.lineDeltas[offset] = delta;
    } else {
      this.lineDeltas[offset] = ESCAPED_DELTA;
      this.escapedLines.push(line);
    }
    this.lastLine = line;
    this.size++;
    this.repeatedIds = undefined;
  }

  /** True when some id (hash) was added more than once. */
  hasRepeats(): boolean {
    this.repeatedIds = this.forEachRepeat(() => {});
    return this.repeatedIds > 0;
  }

  /** The repeated ids, each with the line of its latest valid record, for pass 2. */
  latestLines(): LatestLineIndex {
    if (this.repeatedIds === undefined) this.hasRepeats();
    const index = new LatestLineIndex(this.repeatedIds ?? 0);
    this.forEachRepeat((high, low, occurrences) => index.addRepeated(high, low, occurrences));
    this.forEachRecord((high, low, line) => index.noteLine(high, low, line));
    return index;
  }

  private addBlock(): void {
    this.hashes = new Int32Array(BLOCK_RECORDS * 2);
    this.lineDeltas = new Uint8Array(BLOCK_RECORDS);
    this.hashBlocks.push(this.hashes);
    this.lineDeltaBlocks.push(this.lineDeltas);
  }

  /** Calls `visit` for every record in the order added, with its line. */
  private forEachRecord(visit: (high: number, low: number, line: number) => void): void {
    let line = 0;
    let escaped = 0;
    for (let block = 0; block < this.hashBlocks.length; block++) {
      const hashes = this.hashBlocks[block];
      const lineDeltas = this.lineDeltaBlocks[block];
      const records = Math.min(BLOCK_RECORDS, this.size - block * BLOCK_RECORDS);
      for (let i = 0; i < records; i++) {
        const delta = lineDeltas[i];
        line = delta === ESCAPED_DELTA ? this.escapedLines[escaped++] : line + delta;
        visit(hashes[i * 2 + 1], hashes[i * 2], line);
      }
    }
  }

  /**
   * Calls `found` once per hash added more than once, with how many times; returns how many there
   * are. Slices of the hash space are gathered into one scratch array and sorted there, so the
   * log itself is neither copied nor reordered (its order gives the lines).
   */
  private forEachRepeat(found: (high: number, low: number, occurrences: number) => void): number {
    if (this.size < 2) return 0;
    const sliceSizes = new Int32Array(SLICES);
    const shift = 32 - SLICE_BITS;
    for (let block = 0; block < this.hashBlocks.length; block++) {
      const hashes = this.hashBlocks[block];
      const records = Math.min(BLOCK_RECORDS, this.size - block * BLOCK_RECORDS);
      for (let i = 0; i < records; i++) sliceSizes[hashes[i * 2 + 1] >>> shift]++;
    }
    // Every slice must fit: one id repeated throughout the source is one slice.
    const capacity = Math.max(BLOCK_RECORDS, Math.ceil(this.size / SCRATCH_SHARE), ...sliceSizes);
    const room = Math.min(capacity, this.size);
    const scratch = new BigUint64Array(room + 1); // + 1: the gather writes one past what it keeps
    const gathered = new Int32Array(scratch.buffer);

    let repeated = 0;
    for (let first = 0; first < SLICES;) {
      let end = first;
      let total = 0;
      while (end < SLICES && total + sliceSizes[end] <= room) total += sliceSizes[end++];
      const last = end - 1;
      let count = 0;
      for (let block = 0; block < this.hashBlocks.length; block++) {
        const hashes = this.hashBlocks[block];
        const records = Math.min(BLOCK_RECORDS, this.size - block * BLOCK_RECORDS);
        for (let i = 0; i < records; i++) {
          // Written unconditionally and kept only if in a gathered slice: no branch to mispredict.
          const high = hashes[i * 2 + 1];
          const slice = high >>> shift;
          gathered[count * 2] = hashes[i * 2];
          gathered[count * 2 + 1] = high;
          count += 1 ^ (((slice - first) | (last - slice)) >>> 31);
        }
      }
      scratch.subarray(0, count).sort(); // in place, natively
      for (let i = 0; i < count;) {
        const low = gathered[i * 2];
        const high = gathered[i * 2 + 1];
        let next = i + 1;
        while (next < count && gathered[next * 2] === low && gathered[next * 2 + 1] === high) next++;
        if (next - i > 1) {
          repeated++;
          found(high, low, next - i);
        }
        i = next;
      }
      first = end;
    }
    return repeated;
  }
}

/**
 * Int32 values per slot: hash high, hash low, the records with the hash that pass 2 has still to
 * see (0: an empty slot; it never drops below 1 in a used one), the line of the latest.
 */
const STRIDE = 4;
const REMAINING = 2;
const LATEST_LINE = 3;

/**
 * The repeated ids of one source: an open-addressing hash table (linear probing, at most half
 * full) from an id's hash to how many of its valid records pass 2 has still to see and the line
 * of the latest one.
 */
export class LatestLineIndex {
  private readonly mask: number;
  private readonly slots: Int32Array;

  constructor(repeatedIds: number) {
    let capacity = 16;
    while (capacity < repeatedIds * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.slots = new Int32Array(capacity * STRIDE);
  }

  /**
   * Pass 2 calls this for every valid record, in source order: the line of the later record with
   * the same id that supersedes this one, or 0 when this one is its id's latest. The records are
   * counted, so two records on one line (a JSON array on one line) are told apart too.
   */
  supersededBy(id: string): number {
    hash(id);
    const at = this.find(hashedHigh, hashedLow);
    const remaining = this.slots[at + REMAINING];
    if (remaining <= 1) return 0; // not a repeated id, or its latest record
    this.slots[at + REMAINING] = remaining - 1;
    return this.slots[at + LATEST_LINE];
  }

  /** Adds a repeated hash (while the log builds the index). */
  addRepeated(high: number, low: number, occurrences: number): void {
    const at = this.find(high, low);
    this.slots[at] = high;
    this.slots[at + 1] = low;
    this.slots[at + REMAINING] = occurrences;
  }

  /** Sets the line of a repeated hash, ignoring any other (the later call wins). */
  noteLine(high: number, low: number, line: number): void {
    const at = this.find(high, low);
    if (this.slots[at + REMAINING] !== 0) this.slots[at + LATEST_LINE] = line;
  }

  /** The slot holding this hash, or the empty slot where it would go. */
  private find(high: number, low: number): number {
    for (let slot = low & this.mask; ; slot = (slot + 1) & this.mask) {
      const at = slot * STRIDE;
      if (this.slots[at + REMAINING] === 0 || (this.slots[at] === high && this.slots[at + 1] === low)) return at;
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
