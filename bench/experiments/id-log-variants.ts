/**
 * Stand-ins for lambdas/filter-expiring/facility-id-index.ts, swapped in at bundle time by
 * ingest-memory.ts to measure how much of the ingest's peak RSS the id log accounts for.
 * Pass 1 only (the generated data repeats no facility_id): latestLines() is not implemented.
 *
 *   FACILITY_ID_LOG_VARIANT=none    no log at all: everything else the core keeps in memory
 *   FACILITY_ID_LOG_VARIANT=blocks  the same 12 bytes per record, in fixed 64 Ki-record blocks
 *                                   (no doubling, so no garbage arrays), one sorted copy at the end
 */
const VARIANT = process.env.FACILITY_ID_LOG_VARIANT ?? "blocks";
const BLOCK = 1 << 16;

export class FacilityIdLog {
  private readonly keyBlocks: BigUint64Array[] = [];
  private readonly lineBlocks: Int32Array[] = [];
  size = 0;

  add(id: string, line: number): void {
    if (VARIANT === "none") return;
    const offset = this.size % BLOCK;
    if (offset === 0) {
      this.keyBlocks.push(new BigUint64Array(BLOCK));
      this.lineBlocks.push(new Int32Array(BLOCK));
    }
    this.keyBlocks[this.keyBlocks.length - 1][offset] = hash64(id);
    this.lineBlocks[this.lineBlocks.length - 1][offset] = line;
    this.size++;
  }

  hasRepeats(): boolean {
    const sorted = new BigUint64Array(this.size);
    this.keyBlocks.forEach((block, i) =>
      sorted.set(block.subarray(0, Math.min(BLOCK, this.size - i * BLOCK)), i * BLOCK),
    );
    sorted.sort();
    for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) return true;
    return false;
  }

  latestLines(): LatestLineIndex {
    throw new Error("id-log-variants: pass 2 is not implemented (the generated data repeats no facility_id)");
  }
}

export class LatestLineIndex {
  lineOf(id: string): number {
    throw new Error(`id-log-variants: pass 2 is not implemented (asked for ${id})`);
  }
}

/** The same kind of 64-bit hash as the real module (FNV-1a and a murmur-style mix). */
function hash64(id: string): bigint {
  let a = 0x811c9dc5 ^ id.length;
  let b = 0x9747b28c ^ id.length;
  for (let i = 0; i < id.length; i++) {
    const unit = id.charCodeAt(i);
    a = Math.imul(a ^ unit, 0x01000193);
    b = Math.imul(b ^ unit, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return (BigInt(a >>> 0) << 32n) | BigInt(b >>> 0);
}
