/**
 * The synthetic data generator (bench/lib/generator.ts): deterministic, streaming, realistic, and
 * every record it breaks is rejected by the real filter-expiring validator.
 */
import { Readable, Writable } from "node:stream";
import { gunzipSync } from "node:zlib";
import { expiryWindow } from "../../lambdas/filter-expiring/expiry-window";
import { US_STATE_AND_TERRITORY_CODES, validateFacility } from "../../lambdas/filter-expiring/facility-validation";
import { filterFacilities, writableOutputs } from "../../lambdas/filter-expiring/filter-facilities";
import {
  generateRecords,
  INVALID_KINDS,
  REPAIRABLE_KINDS,
  writeRecords,
  type FileFormat,
  type GeneratedRecord,
  type GeneratorOptions,
} from "../../bench/lib/generator";
import { STATES_AND_TERRITORIES } from "../../bench/lib/reference-data";
import { benchProvenance } from "../../bench/lib/provenance";

/** A sink that keeps everything written to it. */
function memorySink(): { sink: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return { sink, bytes: () => Buffer.concat(chunks) };
}

async function generateFile(options: GeneratorOptions, format: FileFormat = "jsonl", gzip = false) {
  const { sink, bytes } = memorySink();
  const summary = await writeRecords(generateRecords(options), format, gzip, sink);
  return { summary, bytes: bytes() };
}

/** Runs the real filter-expiring core over a file's bytes, outputs dropped. */
async function ingest(bytes: Buffer) {
  const drop = () => new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const outputs = () => writableOutputs({ staged: drop(), rejected: drop(), quality: drop(), expiring: drop() });
  return filterFacilities({
    source: "raw/generated.jsonl",
    window: expiryWindow("2026-11-26", 6),
    maxLineBytes: 1024 * 1024,
    maxDecompressedBytes: 1024 ** 3,
    provenance: benchProvenance("raw/generated.jsonl"),
    openSource: () => Readable.from([bytes]),
    openOutputs: outputs,
  });
}

const parsed = (record: GeneratedRecord) => JSON.parse(record.text) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("determinism", () => {
  test.each([
    ["jsonl", false],
    ["array", false],
    ["jsonl", true],
  ] as const)("the same options give the same bytes (%s, gzip %s)", async (format, gzip) => {
    const options = { facilities: 1500, invalidRate: 0.05, seed: 7 };
    const first = await generateFile(options, format, gzip);
    const second = await generateFile(options, format, gzip);
    expect(first.bytes.equals(second.bytes)).toBe(true);
    expect(first.summary).toEqual(second.summary);
  });

  test("another seed gives other records", async () => {
    const a = await generateFile({ facilities: 200, seed: 1 });
    const b = await generateFile({ facilities: 200, seed: 2 });
    expect(a.bytes.equals(b.bytes)).toBe(false);
  });

  test("a file is the first records of any larger file with the same seed", async () => {
    const small = await generateFile({ facilities: 300, invalidRate: 0.1, seed: 3 });
    const large = await generateFile({ facilities: 3000, invalidRate: 0.1, seed: 3 });
    expect(large.bytes.subarray(0, small.bytes.length).equals(small.bytes)).toBe(true);
  });

  test("a record's facility does not depend on the invalid rate", () => {
    const clean = [...generateRecords({ facilities: 50, invalidRate: 0, seed: 9 })];
    const broken = [...generateRecords({ facilities: 50, invalidRate: 1, seed: 9 })];
    const brokenIds = broken.map((record) => /"facility_id":"(FAC-[A-Z]{2}-\d+)"/.exec(record.text)?.[1]);
    const unchangedIds = brokenIds.filter((id, i) => id !== undefined && parsed(clean[i]).facility_id === id);
    expect(unchangedIds.length).toBeGreaterThan(30);
  });
});

describe("validity against the real validator", () => {
  const records = [...generateRecords({ facilities: 4000, invalidRate: 0.2, seed: 11 })];

  test("every valid record is valid and already canonical JSON", () => {
    for (const record of records.filter((r) => r.invalidKind === undefined)) {
      const result = validateFacility(JSON.parse(record.text), record.text);
      expect(result).toMatchObject({ valid: true, canonicalJson: record.text });
    }
  });

  test.each(INVALID_KINDS)("every %s record is rejected", (kind) => {
    const broken = records.filter((record) => record.invalidKind === kind);
    expect(broken.length).toBeGreaterThan(50);
    for (const record of broken) {
      let value: unknown;
      try {
        value = JSON.parse(record.text);
      } catch {
        continue; // rejected as not JSON
      }
      expect(validateFacility(value, record.text).valid).toBe(false);
    }
  });

  test.each(REPAIRABLE_KINDS)("every %s record is kept, with one repair or warning", (kind) => {
    const quirky = [...generateRecords({ facilities: 4000, repairRate: 0.3, invalidRate: 0.1, seed: 12 })].filter(
      (record) => record.repairableKind === kind,
    );
    expect(quirky.length).toBeGreaterThan(50);
    for (const record of quirky) {
      const result = validateFacility(JSON.parse(record.text), record.text);
      expect(result.valid).toBe(true);
      if (result.valid) expect(result.repairs.length + result.warnings.length).toBe(1);
    }
  });

  test("without a repair rate, no record has a quirk (the files are as they were)", () => {
    expect(records.filter((record) => record.repairableKind !== undefined)).toEqual([]);
  });

  test("the invalid share follows the rate", () => {
    const invalid = records.filter((record) => record.invalidKind !== undefined).length;
    expect(invalid / records.length).toBeGreaterThan(0.17);
    expect(invalid / records.length).toBeLessThan(0.23);
  });

  test.each([
    ["jsonl", false],
    ["array", false],
    ["array", true],
  ] as const)("filter-expiring's counts match the generator's summary (%s, gzip %s)", async (format, gzip) => {
    const { summary, bytes } = await generateFile(
      { facilities: 2000, invalidRate: 0.1, repairRate: 0.05, seed: 5 },
      format,
      gzip,
    );
    if (gzip) expect(gunzipSync(bytes).toString("utf8").startsWith("[\n{")).toBe(true);
    const result = await ingest(bytes);
    expect(result).toMatchObject({
      records: 2000,
      valid: summary.valid,
      rejected: summary.invalid,
      repaired:
        summary.repairableByKind["numeric-string-count"] +
        summary.repairableByKind["lowercase-state"] +
        summary.repairableByKind["numeric-zip"] +
        summary.repairableByKind["utc-datetime"],
      warnings: summary.repairableByKind["null-address"],
      superseded: 0,
      passes: 1,
      format: format === "jsonl" ? "json-lines" : "json-array",
    });
    expect(summary.invalid).toBeGreaterThan(150);
    expect(summary.repairable).toBeGreaterThan(50);
  });
});

describe("realistic content", () => {
  const facilities = [...generateRecords({ facilities: 20_000, seed: 1 })].map(parsed);

  test("facility ids are unique", () => {
    expect(new Set(facilities.map((facility) => facility.facility_id)).size).toBe(facilities.length);
  });

  test("all 50 states, DC and the five inhabited territories appear, and nothing else", () => {
    const codes = STATES_AND_TERRITORIES.map((entry) => entry.code);
    expect(codes).toHaveLength(56);
    for (const code of codes) expect(US_STATE_AND_TERRITORY_CODES.has(code)).toBe(true);
    expect(new Set(facilities.map((facility) => facility.location.state))).toEqual(new Set(codes));
  });

  test("0 to 3 accreditations from several bodies, valid until 2024-2028 with month-end dates", () => {
    const counts = new Set(facilities.map((facility) => facility.accreditations.length));
    expect(counts).toEqual(new Set([0, 1, 2, 3]));
    const accreditations = facilities.flatMap((facility) => facility.accreditations);
    expect(new Set(accreditations.map((a) => a.accreditation_body)).size).toBeGreaterThanOrEqual(8);
    const dates: string[] = accreditations.map((a) => a.valid_until);
    expect(dates.every((date) => date >= "2024-01-01" && date <= "2028-12-31")).toBe(true);
    for (const year of [2024, 2025, 2026, 2027, 2028]) {
      expect(dates.some((date) => date.startsWith(`${year}-`))).toBe(true);
    }
    expect(dates).toContain("2024-02-29");
    expect(dates).toContain("2027-02-28");
    expect(dates).toContain("2026-04-30");
  });

  test("services, labs and staff sizes vary", () => {
    expect(facilities.every((facility) => facility.services.length >= 1)).toBe(true);
    expect(facilities.some((facility) => facility.labs.length === 0)).toBe(true);
    expect(facilities.some((facility) => facility.labs.length >= 2)).toBe(true);
    const staff = facilities.map((facility) => facility.employee_count as number);
    expect(Math.min(...staff)).toBeLessThan(20);
    expect(Math.max(...staff)).toBeGreaterThan(3000);
  });
});

describe("streaming", () => {
  test("records are produced lazily: the first of ten million come at once", () => {
    const iterator = generateRecords({ facilities: 10_000_000, seed: 1 });
    for (let i = 0; i < 10; i++) expect(iterator.next().done).toBe(false);
  });

  test("writing waits for a slow sink instead of buffering the records", async () => {
    let pulled = 0;
    function* counted(): Generator<GeneratedRecord> {
      // Ten times the 2000 allowed in flight: enough to tell waiting from buffering, as a writer
      // that does not wait pulls far more than that in the first 200 ms.
      for (const record of generateRecords({ facilities: 20_000, seed: 1 })) {
        pulled++;
        yield record;
      }
    }
    const held: (() => void)[] = [];
    let flowing = false;
    const sink = new Writable({
      highWaterMark: 16 * 1024,
      write(_chunk, _encoding, callback) {
        if (flowing) callback();
        else held.push(() => callback());
      },
    });
    const done = writeRecords(counted(), "jsonl", false, sink);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // About two 64 KiB batches (roughly 140 records each) are in flight, never the whole file.
    expect(pulled).toBeGreaterThan(0);
    expect(pulled).toBeLessThan(2000);
    flowing = true;
    held.splice(0).forEach((release) => release());
    const summary = await done;
    expect(summary.facilities).toBe(20_000);
    expect(pulled).toBe(20_000);
  });
});

test("options are checked, every problem at once", () => {
  expect(() => [...generateRecords({ facilities: -1, invalidRate: 2, seed: 1.5 })]).toThrow(
    /facilities must be a whole number.*-1.*invalid rate must be a number from 0 to 1.*2.*seed must be a whole number.*1\.5/,
  );
});
