import { Readable, Writable } from "node:stream";
import { gzipSync } from "node:zlib";
import { expiryWindow } from "../../../lambdas/filter-expiring/expiry-window";
import {
  filterFacilities,
  type FacilityOutputs,
  type Provenance,
} from "../../../lambdas/filter-expiring/filter-facilities";
import { PROVENANCE_COLUMNS, RECORD_COLUMNS } from "../../../core/facility-schema";
import { inputBytes } from "../../../lambdas/filter-expiring/input-bytes";
import {
  CorruptGzipError,
  DecompressedSizeExceededError,
  MalformedJsonArrayError,
} from "../../../lambdas/shared/errors";
import { extendedSampleLines, facility, jsonLines } from "../../fixtures/facilities";

/** Outputs kept in memory; records what was committed and what was discarded. */
class MemoryOutputs {
  readonly opened: { committed?: Record<string, string>; discardedFor?: Error; keptDropped?: boolean }[] = [];

  open = (): FacilityOutputs => {
    const chunks: Record<string, string[]> = { staged: [], rejected: [], quality: [], expiring: [] };
    const state: (typeof this.opened)[number] = {};
    this.opened.push(state);
    const sink = (name: string) =>
      new Writable({
        highWaterMark: 64,
        write(chunk: Buffer, _encoding, callback) {
          chunks[name].push(chunk.toString("utf8"));
          setImmediate(callback); // a slow consumer, so backpressure is exercised
        },
      });
    const staged = sink("staged");
    const rejected = sink("rejected");
    const quality = sink("quality");
    const expiring = sink("expiring");
    const end = (stream: Writable) => new Promise<void>((resolve) => stream.end(resolve));
    return {
      staged,
      rejected,
      quality,
      expiring,
      async commit(options = {}) {
        state.keptDropped = options.kept === false;
        if (state.keptDropped) {
          for (const stream of [staged, expiring]) stream.destroy();
          chunks.staged = [];
          chunks.expiring = [];
        }
        await Promise.all([...(state.keptDropped ? [] : [end(staged), end(expiring)]), end(rejected), end(quality)]);
        state.committed = Object.fromEntries(Object.entries(chunks).map(([name, parts]) => [name, parts.join("")]));
      },
      async discard(reason) {
        state.discardedFor = reason;
        for (const stream of [staged, rejected, quality, expiring]) stream.destroy();
      },
    };
  };

  /** The outputs of the one committed pass, as parsed lines. */
  committed(): Record<"staged" | "rejected" | "quality" | "expiring", Record<string, unknown>[]> {
    const committed = this.opened.filter((pass) => pass.committed !== undefined);
    expect(committed).toHaveLength(1);
    const lines = (text: string) =>
      text
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line));
    const { staged, rejected, quality, expiring } = committed[0].committed!;
    return {
      staged: lines(staged).map(withoutProvenance),
      rejected: lines(rejected),
      quality: lines(quality),
      expiring: lines(expiring),
    };
  }

  /** The staged lines as written, provenance included. */
  stagedLines(): Record<string, unknown>[] {
    const committed = this.opened.find((pass) => pass.committed !== undefined)!;
    return committed
      .committed!.staged.split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line));
  }
}

const PROVENANCE: Provenance = {
  source_key: "raw/test.jsonl",
  source_version: "etag:abc",
  event_time: "2026-11-26T14:24:24.000Z",
  sequencer: "0000000000000000000066F1A2B3C4D5",
};

function withoutProvenance(record: Record<string, unknown>): Record<string, unknown> {
  const names = new Set(PROVENANCE_COLUMNS.map((column) => column.name));
  return Object.fromEntries(Object.entries(record).filter(([name]) => !names.has(name)));
}

function run(
  source: string | Buffer,
  overrides: { maxLineBytes?: number; maxDecompressedBytes?: number; chunkSize?: number } = {},
) {
  const outputs = new MemoryOutputs();
  let reads = 0;
  const bytes = typeof source === "string" ? Buffer.from(source, "utf8") : source;
  const chunkSize = overrides.chunkSize ?? 7;
  const promise = filterFacilities({
    source: "raw/test.jsonl",
    window: expiryWindow("2026-11-26", 6),
    maxLineBytes: overrides.maxLineBytes ?? 1024 * 1024,
    maxDecompressedBytes: overrides.maxDecompressedBytes ?? 1024 ** 3,
    provenance: PROVENANCE,
    openSource: () => {
      reads++;
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
      return Readable.from(chunks);
    },
    openOutputs: outputs.open,
  });
  return { promise, outputs, reads: () => reads };
}

describe("filterFacilities (the core, on local streams)", () => {
  test("reads a source without repeated ids once and commits its outputs", async () => {
    const { promise, outputs, reads } = run(jsonLines(extendedSampleLines()));
    const summary = await promise;
    expect(summary).toMatchObject({ records: 10, valid: 10, rejected: 0, expiring: 4, expired: 2, passes: 1 });
    expect(reads()).toBe(1);
    expect(outputs.opened).toHaveLength(1);
    expect(outputs.committed().staged).toHaveLength(10);
  });

  test("appends the upload's provenance to every staged record, with its line, in table column order", async () => {
    const records = extendedSampleLines().slice(0, 3);
    const { promise, outputs } = run(jsonLines(records));
    await promise;
    const staged = outputs.stagedLines();
    expect(staged.map((record) => Object.keys(record))).toEqual(
      records.map(() => RECORD_COLUMNS.map((column) => column.name)),
    );
    expect(staged.map(({ source_line, retired }) => ({ source_line, retired }))).toEqual([
      { source_line: 1, retired: false },
      { source_line: 2, retired: false },
      { source_line: 3, retired: false },
    ]);
    expect(staged[2]).toMatchObject(PROVENANCE);
  });

  test("settles repeated ids in a second pass: the last valid record wins", async () => {
    const a1 = facility({ facility_id: "A", facility_name: "first A" });
    const b = facility({ facility_id: "B" });
    const a2 = facility({ facility_id: "A", facility_name: "second A" });
    const invalidB = facility({ facility_id: "B", employee_count: -1 });
    const a3 = facility({ facility_id: "A", facility_name: "third A" });
    const { promise, outputs, reads } = run(jsonLines([a1, b, a2, invalidB, a3]));

    const summary = await promise;
    expect(summary).toMatchObject({ records: 5, valid: 2, rejected: 3, superseded: 2, passes: 2 });
    expect(reads()).toBe(2);
    expect(outputs.opened[0].discardedFor?.name).toBe("SecondPassRequired");
    const { staged, rejected } = outputs.committed();
    expect(staged).toEqual([b, a3]);
    expect(rejected.map(({ line, facility_id, reasons }) => ({ line, facility_id, reasons }))).toEqual([
      { line: 1, facility_id: "A", reasons: [{ field: "facility_id", message: "superseded by line 5" }] },
      { line: 3, facility_id: "A", reasons: [{ field: "facility_id", message: "superseded by line 5" }] },
      {
        line: 4,
        facility_id: "B",
        reasons: [{ field: "employee_count", message: "must not be negative, received -1" }],
      },
    ]);
    expect(rejected[0].text).toBe(JSON.stringify(a1));
  });

  test("settles a repeated id between two elements of a JSON array on one line", async () => {
    const first = facility({ facility_id: "A", facility_name: "first A" });
    const second = facility({ facility_id: "A", facility_name: "second A" });
    const { promise, outputs } = run(`[${JSON.stringify(first)},${JSON.stringify(second)}]`);

    expect(await promise).toMatchObject({ records: 2, valid: 1, rejected: 1, superseded: 1, passes: 2 });
    const { staged, rejected } = outputs.committed();
    expect(staged).toEqual([second]);
    expect(rejected).toEqual([
      {
        line: 1,
        facility_id: "A",
        reasons: [{ field: "facility_id", message: "superseded by line 1" }],
        text: JSON.stringify(first),
      },
    ]);
  });

  test("a U+FFFD written as such is valid UTF-8 and kept; a byte that is not UTF-8 rejects its line", async () => {
    const [first, second] = extendedSampleLines().map((line) => JSON.parse(line));
    const written = JSON.stringify({ ...first, facility_name: "Replacement \uFFFD sign" });
    const latin1 = Buffer.from(JSON.stringify({ ...second, facility_name: "Caf\u00e9" }), "latin1");
    const { promise, outputs } = run(Buffer.concat([Buffer.from(`${written}\n`), latin1, Buffer.from("\n")]));
    expect(await promise).toMatchObject({ records: 2, valid: 1, rejected: 1 });
    expect(outputs.committed().staged[0]).toMatchObject({ facility_name: "Replacement \uFFFD sign" });
    expect(JSON.stringify(outputs.committed().rejected[0])).toContain("not valid UTF-8");
  });

  test("discards the outputs when the source fails part way, and commits nothing", async () => {
    const { promise, outputs } = run(`[${JSON.stringify(facility())} ${JSON.stringify(facility())}]`);
    await expect(promise).rejects.toThrow(MalformedJsonArrayError);
    expect(outputs.opened).toHaveLength(1);
    expect(outputs.opened[0].committed).toBeUndefined();
    expect(outputs.opened[0].discardedFor).toBeInstanceOf(MalformedJsonArrayError);
  });

  test("discards the outputs it opened when the source cannot be opened", async () => {
    const outputs = new MemoryOutputs();
    await expect(
      filterFacilities({
        source: "raw/x.jsonl",
        window: expiryWindow("2026-11-26", 6),
        maxLineBytes: 1024 * 1024,
        provenance: PROVENANCE,
        maxDecompressedBytes: 10,
        openOutputs: outputs.open,
        openSource: () => {
          throw new DecompressedSizeExceededError("too big");
        },
      }),
    ).rejects.toThrow("too big");
    expect(outputs.opened).toHaveLength(1);
    expect(outputs.opened[0].committed).toBeUndefined();
    expect(outputs.opened[0].discardedFor).toBeInstanceOf(DecompressedSizeExceededError);
  });

  test("rejects a record nested deeper than JSON.stringify can show, without failing the file", async () => {
    const deep = JSON.stringify({ ...facility({ facility_id: "FAC-DN-9999" }), services: "__X__" }).replace(
      '"__X__"',
      "[".repeat(10_000) + "]".repeat(10_000),
    );
    const { promise, outputs } = run(`${JSON.stringify(facility())}\n${deep}\n`, { chunkSize: 65536 });
    expect(await promise).toMatchObject({ records: 2, valid: 1, rejected: 1 });
    expect(outputs.committed().rejected[0]).toMatchObject({ line: 2, facility_id: "FAC-DN-9999" });
  });

  test("keeps writing through a slow output (backpressure) without losing lines", async () => {
    const records = Array.from({ length: 2000 }, (_, i) => facility({ facility_id: `FAC-${i}` }));
    const { promise, outputs } = run(jsonLines(records), { chunkSize: 4096 });
    expect(await promise).toMatchObject({ records: 2000, valid: 2000 });
    expect(outputs.committed().staged).toEqual(records);
  });
});

describe("inputBytes", () => {
  const collect = async (chunks: Buffer[], maxDecompressedBytes = 1024 ** 2) => {
    const out: Buffer[] = [];
    for await (const chunk of inputBytes(Readable.from(chunks), { source: "raw/x.gz", maxDecompressedBytes }))
      out.push(chunk);
    return Buffer.concat(out).toString("utf8");
  };

  test("gunzips by magic bytes, even when they are split across chunks", async () => {
    const zipped = gzipSync("hello\n");
    expect(await collect([zipped.subarray(0, 1), zipped.subarray(1, 2), zipped.subarray(2)])).toBe("hello\n");
  });

  test("passes other bytes through, a lone first byte included", async () => {
    expect(await collect([Buffer.from([0x1f]), Buffer.from("abc")])).toBe("\x1fabc");
    expect(await collect([Buffer.from("{")])).toBe("{");
    expect(await collect([])).toBe("");
  });

  test("stops a gzip bomb at the limit", async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20)); // 50 MiB of spaces, about 50 KB zipped
    await expect(collect([bomb], 1024 * 1024)).rejects.toThrow(
      new DecompressedSizeExceededError(
        "raw/x.gz holds more than 1048576 bytes once decompressed, the limit set by MAX_DECOMPRESSED_BYTES; nothing was written",
      ),
    );
  });

  test("applies the limit to plain sources too", async () => {
    await expect(collect([Buffer.alloc(2048, 0x20)], 1024)).rejects.toThrow(DecompressedSizeExceededError);
  });

  test("reports a damaged gzip stream", async () => {
    const zipped = gzipSync("hello world, hello world\n");
    zipped[12] ^= 0xff;
    await expect(collect([zipped])).rejects.toThrow(CorruptGzipError);
    await expect(collect([gzipSync("truncated").subarray(0, 12)])).rejects.toThrow(
      /raw\/x.gz starts like gzip but cannot be decompressed/,
    );
  });
});
