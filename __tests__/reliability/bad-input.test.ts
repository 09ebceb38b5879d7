/**
 * The bad-input corpus (__tests__/fixtures/bad-input/), end to end through the local pipeline:
 * each file's outcome is the one documented in expected.json, valid + rejected = records, and
 * every rejected record is in rejected/ with its line number, its reasons and its original text.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { validateFacility } from "../../lambdas/filter-expiring/facility-validation";
import { OVERSIZE_HEAD_BYTES } from "../../lambdas/filter-expiring/record-splitter";
import { DEFAULT_MAX_DECOMPRESSED_BYTES, readFilterExpiringSettings } from "../../lambdas/filter-expiring/request";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { PROVENANCE_COLUMNS } from "../../core/facility-schema";
import { filterOutputKeys, type FilterOutputKeys } from "../../lambdas/shared/output-keys";
import { LocalPipeline, type ExecutionResult } from "../../local/pipeline";
import { gzipBomb } from "../fixtures/bad-input/gzip-bomb";
import { AS_OF, withEnv } from "./helpers";

const CORPUS = join(__dirname, "..", "fixtures", "bad-input");
const NOT_INPUTS = new Set(["expected.json", "gzip-bomb.ts"]);

interface ExpectedOutcome {
  readonly file: string;
  readonly what: string;
  /** Not committed: written by gzip-bomb.ts for the test. */
  readonly generated?: boolean;
  /** Handler settings lowered for this file. */
  readonly env?: Readonly<Record<string, string>>;
  readonly status: "SUCCEEDED" | "FAILED";
  readonly error?: string;
  readonly errorMessage?: string;
  /** false: the whole file is refused and no output may exist. */
  readonly written?: boolean;
  /** false: past MAX_REJECTED_SHARE, the staged and expiring outputs are dropped (rejected and quality are written). */
  readonly staged?: boolean;
  readonly records?: number;
  readonly valid?: number;
  readonly rejected?: number;
  /** Every rejected line, in order, with a substring of one of its reasons; `expiring` when it still shows an accreditation in the window. */
  readonly rejectedLines?: readonly { readonly line: number; readonly reason: string; readonly expiring?: boolean }[];
  /** Every line of quality/<name>.jsonl (kept records repaired or with warnings), with a substring of one repair or warning. */
  readonly qualityLines?: readonly { readonly line: number; readonly note: string }[];
}

interface RejectedLine {
  readonly line: number;
  readonly facility_id: string | null;
  readonly reasons: readonly { readonly field: string; readonly message: string }[];
  readonly text: string;
  readonly expiring_accreditations?: readonly unknown[];
}

interface QualityLine {
  readonly line: number;
  readonly facility_id: string;
  readonly repairs: readonly {
    readonly field: string;
    readonly repairs: string[];
    readonly received: unknown;
    readonly kept: unknown;
  }[];
  readonly warnings: readonly { readonly field: string; readonly message: string }[];
}

const manifest = (JSON.parse(readFileSync(join(CORPUS, "expected.json"), "utf8")) as { files: ExpectedOutcome[] })
  .files;
const scratch = mkdtempSync(join(tmpdir(), "bad-input-"));

/** The file to upload: the committed one, or the generated bomb (4 MiB of records in about 20 KB). */
function inputPath(expected: ExpectedOutcome): string {
  if (!expected.generated) return join(CORPUS, expected.file);
  const path = join(scratch, expected.file);
  writeFileSync(path, gzipBomb({ decompressedBytes: 4 * 1024 * 1024 }));
  return path;
}

/** The source's lines as the handler numbers them: decompressed, without a leading BOM, split at LF. */
function sourceLines(path: string): Buffer[] {
  let bytes = readFileSync(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  const lines: Buffer[] = [];
  for (let start = 0; start <= bytes.length;) {
    const end = bytes.indexOf(0x0a, start);
    lines.push(bytes.subarray(start, end === -1 ? bytes.length : end));
    start = end === -1 ? bytes.length + 1 : end + 1;
  }
  return lines;
}

const linesOf = (text: string) => text.split("\n").filter((line) => line !== "");

let pipeline: LocalPipeline;
beforeAll(async () => {
  pipeline = await LocalPipeline.start({ asOf: AS_OF, retryIntervalMs: 1 });
});
afterAll(async () => {
  await pipeline.stop();
  rmSync(scratch, { recursive: true, force: true });
});

test("expected.json documents every file of the corpus, and no other", () => {
  const committed = readdirSync(CORPUS).filter((file) => !NOT_INPUTS.has(file));
  const documented = manifest.filter((entry) => !entry.generated).map((entry) => entry.file);
  expect(documented.sort()).toEqual(committed.sort());
  expect(manifest.find((entry) => entry.generated)?.file).toBe("gzip-bomb.jsonl.gz");
  for (const entry of manifest) {
    if (entry.written === false) continue;
    expect({ file: entry.file, sum: entry.valid! + entry.rejected! }).toEqual({ file: entry.file, sum: entry.records });
    expect({ file: entry.file, listed: entry.rejectedLines!.length }).toEqual({
      file: entry.file,
      listed: entry.rejected,
    });
  }
});

/** The output keys of the object now under `key` (the local bucket is not versioned: its ETag names the version). */
async function outputKeysOf(key: string): Promise<FilterOutputKeys> {
  const head = await pipeline.s3.send(new HeadObjectCommand({ Bucket: pipeline.bucket, Key: key }));
  return filterOutputKeys(key, { etag: head.ETag ?? "" });
}

const PROVENANCE_NAMES = new Set(PROVENANCE_COLUMNS.map((column) => column.name));
/** A staged line without its provenance: the record as validated. */
const withoutProvenance = (line: string) =>
  JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(line)).filter(([name]) => !PROVENANCE_NAMES.has(name))));

describe.each(manifest.map((entry) => [entry.file, entry] as const))("%s", (file, expected) => {
  const key = `raw/bad-input/${file}`;
  let outputs: FilterOutputKeys;
  const path = inputPath(expected);
  let run: ExecutionResult;
  const read = async (outputKey: string) =>
    (await pipeline.listKeys(outputKey)).includes(outputKey) ? pipeline.readObject(outputKey) : undefined;

  beforeAll(async () => {
    // The corpus files are dense with bad records on purpose (a few lines show many rules), so the
    // rejected-share threshold is off unless a file's env sets it (the threshold has files of its own).
    run = await withEnv({ MAX_REJECTED_SHARE: "1", ...expected.env }, async () => {
      const uploaded = await pipeline.upload(path, key);
      outputs = await outputKeysOf(uploaded);
      return pipeline.runExecution(uploaded);
    });
  });

  const rejectedExpiring = (expected.rejectedLines ?? []).filter((entry) => entry.expiring).length;
  test(`${expected.status}${expected.error ? ` with ${expected.error}` : ""}`, () => {
    expect(run.status).toBe(expected.status);
    if (expected.status === "SUCCEEDED") {
      // Only rejected records that still show an expiring accreditation are worth a message.
      expect(run.notifications.map((n) => n.subject)).toEqual(
        rejectedExpiring > 0 ? ["Facility pipeline: rejected records with expiring accreditations"] : [],
      );
      if (rejectedExpiring > 0)
        expect(run.notifications[0].message).toMatch(new RegExp(`^${rejectedExpiring} rejected record`));
      return;
    }
    expect(run.error?.error).toBe(expected.error);
    if (expected.errorMessage) expect(run.error?.cause).toContain(expected.errorMessage);
    expect(run.notifications).toHaveLength(1);
    expect(run.notifications[0].message).toContain(`s3://${pipeline.bucket}/${key}\n`);
    expect(run.notifications[0].message).toContain(`Error: ${expected.error}\n`);
  });

  if (expected.written === false) {
    test("nothing is written for it", async () => {
      for (const outputKey of Object.values(outputs)) expect(await read(outputKey)).toBeUndefined();
    });
    return;
  }

  test(`records ${expected.records} = valid ${expected.valid} + rejected ${expected.rejected}`, async () => {
    const rejected = linesOf((await read(outputs.rejected))!);
    expect(rejected).toHaveLength(expected.rejected!);
    if (expected.staged === false) expect(await read(outputs.staging)).toBeUndefined();
    else expect(linesOf((await read(outputs.staging))!)).toHaveLength(expected.valid!);
    if (run.ingest !== null) {
      expect(run.ingest).toMatchObject({
        records: expected.records,
        valid: expected.valid,
        rejected: expected.rejected,
      });
      expect(run.ingest.valid + run.ingest.rejected).toBe(run.ingest.records);
    } else {
      // NoValidRecordsError: the handler wrote its outputs, then failed the run.
      expect(run.error?.cause).toContain(`none of its ${expected.records} records is valid`);
    }
  });

  test("every staged line is a valid record in canonical form, with its provenance", async () => {
    // Past MAX_REJECTED_SHARE nothing is staged.
    if (expected.staged === false) return expect(await read(outputs.staging)).toBeUndefined();
    // Written even when no record is valid: every version has all four outputs.
    const staged = await read(outputs.staging);
    expect(staged).toBeDefined();
    const lines = linesOf(staged!);
    expect(staged).toBe(lines.map((line) => `${line}\n`).join(""));
    expect(lines).toHaveLength(expected.valid!);
    for (const line of lines) {
      expect(JSON.parse(line)).toMatchObject({ source_key: key, retired: false });
      const record = withoutProvenance(line);
      expect(validateFacility(JSON.parse(record), record)).toMatchObject({ valid: true, canonicalJson: record });
    }
  });

  test("every rejected line has its line number, its reasons and its original text", async () => {
    const rejected = linesOf((await read(outputs.rejected))!).map((line) => JSON.parse(line) as RejectedLine);
    const lines = sourceLines(path);
    const isArray = lines.join("\n").trimStart().startsWith("[");

    expect(rejected.map((record) => record.line)).toEqual(expected.rejectedLines!.map((entry) => entry.line));
    expect(rejected.map((record) => [record.line, record.expiring_accreditations !== undefined])).toEqual(
      expected.rejectedLines!.map((entry) => [entry.line, entry.expiring === true]),
    );
    rejected.forEach((record, i) => {
      const reasons = record.reasons.map((reason) => `${reason.field}: ${reason.message}`);
      expect({ line: record.line, reasons }).toEqual({
        line: record.line,
        reasons: expect.arrayContaining([expect.stringContaining(expected.rejectedLines![i].reason)]),
      });
      expect(record.facility_id === null || typeof record.facility_id === "string").toBe(true);

      const original = lines[record.line - 1];
      if (isArray) {
        // An element's text, starting on its line.
        expect(
          lines
            .slice(record.line - 1)
            .join("\n")
            .toString(),
        ).toContain(record.text);
      } else if (reasons.some((reason) => reason.includes("more than MAX_LINE_BYTES"))) {
        expect(record.text).toBe(original.subarray(0, OVERSIZE_HEAD_BYTES).toString("utf8"));
      } else {
        const withoutCr = original[original.length - 1] === 0x0d ? original.subarray(0, -1) : original;
        expect(record.text).toBe(withoutCr.toString("utf8"));
      }
    });
  });

  test("every repaired record or record with a warning is in quality/, with the values received and kept", async () => {
    const quality = linesOf((await read(outputs.quality)) ?? "").map((line) => JSON.parse(line) as QualityLine);
    const expectedLines = expected.qualityLines ?? [];
    expect(quality.map((record) => record.line)).toEqual(expectedLines.map((entry) => entry.line));
    quality.forEach((record, i) => {
      const notes = [
        ...record.repairs.map((r) => `${r.field}: ${JSON.stringify(r.received)} -> ${JSON.stringify(r.kept)}`),
        ...record.warnings.map((w) => `${w.field}: ${w.message}`),
      ];
      expect({ line: record.line, notes }).toEqual({
        line: record.line,
        notes: expect.arrayContaining([expect.stringContaining(expectedLines[i].note)]),
      });
    });
    if (run.ingest !== null && expected.status === "SUCCEEDED") {
      expect(run.ingest.repaired).toBe(quality.filter((record) => record.repairs.length > 0).length);
      expect(run.ingest.warnings).toBe(quality.filter((record) => record.warnings.length > 0).length);
      expect(run.ingest.rejectedExpiring).toBe(rejectedExpiring);
    }
  });

  test("the expiring output holds only staged facilities", async () => {
    const stagedIds = new Set(linesOf((await read(outputs.staging)) ?? "").map((line) => JSON.parse(line).facility_id));
    // Written even when empty, like the staged output.
    const expiring = await read(outputs.expiring);
    if (expected.staged === false) return expect(expiring).toBeUndefined();
    expect(expiring).toBeDefined();
    const expiringIds = linesOf(expiring!).map((line) => JSON.parse(line).facility_id as string);
    expect(expiringIds.filter((id) => !stagedIds.has(id))).toEqual([]);
    if (expected.valid === 0) expect(expiring).toBe("");
  });
});

describe("a gzip bomb past the cap", () => {
  test("MAX_DECOMPRESSED_BYTES defaults to 2 GiB", () => {
    // The cap itself is exercised below and by gzip-bomb.jsonl.gz, lowered: decompressing 2 GiB
    // here would only prove that zlib is slow.
    expect(DEFAULT_MAX_DECOMPRESSED_BYTES).toBe(2 * 1024 ** 3);
    expect(readFilterExpiringSettings({ DATA_BUCKET: "b" }).maxDecompressedBytes).toBe(2 * 1024 ** 3);
    expect(
      readFilterExpiringSettings({ DATA_BUCKET: "b", MAX_DECOMPRESSED_BYTES: "1048576" }).maxDecompressedBytes,
    ).toBe(1048576);
  });

  test("spaces without a newline that expand past the cap are refused at the cap, in bounded memory", async () => {
    // Nothing for the parser to do, so only the cap can stop it.
    const cap = 8 * 1024 * 1024;
    const path = join(scratch, "gzip-bomb-spaces.jsonl.gz");
    writeFileSync(path, gzipBomb({ decompressedBytes: cap + 1, line: null }));
    const key = "raw/bad-input/gzip-bomb-spaces.jsonl.gz";
    const rssBefore = process.memoryUsage().rss;

    const run = await withEnv({ MAX_DECOMPRESSED_BYTES: String(cap) }, async () =>
      pipeline.runExecution(await pipeline.upload(path, key)),
    );

    expect(run.status).toBe("FAILED");
    expect(run.error?.error).toBe("DecompressedSizeExceededError");
    expect(run.error?.cause).toContain(`more than ${cap} bytes once decompressed`);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 1024 * 1024);
    for (const outputKey of Object.values(await outputKeysOf(key))) {
      expect(await pipeline.listKeys(outputKey)).toEqual([]);
    }
  });
});
