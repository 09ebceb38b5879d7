/**
 * Time moves without uploads: the expiry-digest workflow (state-machines/expiry-digest.asl.json)
 * run locally on a state directory's current table, through the real ASL, sql/expiry_digest.sql
 * in DuckDB and the relocate handler, and through `facility-pipeline digest`. Every answer is
 * compared with a model computed here from the latest record of each facility.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { HORIZONS } from "../../core/horizons";
import { scratchDirectory } from "../helpers/scratch";
import { LocalPipeline } from "../../local/pipeline";
import { runCli } from "../helpers/operations";
import { extendedSampleRecords, jsonLines } from "../fixtures/facilities";

process.env.POWERTOOLS_LOG_LEVEL = "SILENT";

/** The uploads' date, and the digest's: four months later. */
const UPLOADED = "2026-11-26";
const AS_OF = "2027-03-26";
const LOOKBACK_DAYS = 30;
const WINDOW_MONTHS = 6;
type Facility = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const { stateDir, file } = scratchDirectory("digest-test-");

const DAY_MS = 86_400_000;
const daysBetween = (from: string, to: string) => Math.round((Date.parse(to) - Date.parse(from)) / DAY_MS);

function horizonOf(days: number): string {
  if (days < 0) return "expired";
  if (days <= 30) return "0-30";
  if (days <= 60) return "31-60";
  if (days <= 90) return "61-90";
  return days <= 180 ? "91-180" : "beyond";
}

/** The digest the current state gives: the latest record of each facility, written out by hand. */
function model(records: readonly Facility[], asOf: string) {
  const latest = new Map(records.map((record) => [record.facility_id as string, record]));
  const from = new Date(Date.parse(asOf) - LOOKBACK_DAYS * DAY_MS).toISOString().slice(0, 10);
  const end = new Date(asOf);
  end.setUTCMonth(end.getUTCMonth() + WINDOW_MONTHS); // no month-end clamping needed for the 26th
  const to = end.toISOString().slice(0, 10);
  return [...latest.values()]
    .flatMap((f) =>
      (f.accreditations as Facility[])
        .filter((a) => a.valid_until >= from && a.valid_until <= to)
        .map((a) => {
          const days = daysBetween(asOf, a.valid_until);
          return {
            facility_id: f.facility_id,
            facility_name: f.facility_name,
            state: f.location.state,
            accreditation_body: a.accreditation_body,
            accreditation_id: a.accreditation_id,
            valid_until: a.valid_until,
            days_until_expiry: days,
            horizon: horizonOf(days),
          };
        }),
    )
    .sort(
      (a, b) =>
        a.days_until_expiry - b.days_until_expiry ||
        a.facility_id.localeCompare(b.facility_id) ||
        a.accreditation_id.localeCompare(b.accreditation_id),
    );
}

const v1 = extendedSampleRecords() as Facility[];
// Upload 2: TX-0001 moved to OK (its TJC accreditation, 5 days left, is now listed in OK), and
// MA-0009 renewed COLA-41876 (due 2027-06-30, 96 days left) until 2029: a superseded record
// must not be listed.
const moved = { ...structuredClone(v1.find((f) => f.facility_id === "FAC-TX-0001")!) };
moved.location = { ...moved.location, state: "OK", city: "Tulsa" };
const renewed = structuredClone(v1.find((f) => f.facility_id === "FAC-MA-0009")!);
renewed.accreditations = renewed.accreditations.map((a: Facility) =>
  a.accreditation_id === "COLA-41876" ? { ...a, valid_until: "2029-06-30" } : a,
);
const v2 = [moved, renewed];

function outbox(name: "compliance" | "notifications"): Facility[] {
  const path = join(stateDir, "outbox", `${name}.jsonl`);
  return existsSync(path)
    ? readFileSync(path, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line))
    : [];
}

describe("the expiry digest over a kept state directory", () => {
  test("one upload, digest four months later: the accreditations of the window from that date, per horizon, and a compliance message", async () => {
    const pipeline = await LocalPipeline.start({ stateDir, asOf: UPLOADED, retryIntervalMs: 1 });
    try {
      const run = await pipeline.runExecution(
        await pipeline.upload(file("v1.jsonl", jsonLines(v1)), "raw/registry.jsonl"),
      );
      expect(run.status).toBe("SUCCEEDED");
    } finally {
      await pipeline.stop();
    }

    const { code, stdout, stderr } = await runCli(
      "digest",
      "--target",
      "local",
      "--state-dir",
      stateDir,
      "--as-of",
      AS_OF,
      "--json",
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const digest = JSON.parse(stdout);
    const expected = model(v1, AS_OF);
    // The sample has accreditations in several horizons, expired ones of the look-back included.
    expect(new Set(expected.map((row) => row.horizon)).size).toBeGreaterThanOrEqual(3);
    expect(expected.some((row) => row.days_until_expiry < 0)).toBe(true);
    expect(digest).toMatchObject({
      asOf: AS_OF,
      windowMonths: WINDOW_MONTHS,
      lookbackDays: LOOKBACK_DAYS,
      status: "SUCCEEDED",
    });
    expect(digest.expiringAccreditations).toEqual(expected);
    expect(digest.horizons).toEqual(
      Object.fromEntries(HORIZONS.map((h) => [h, expected.filter((row) => row.horizon === h).length])),
    );
    expect(digest.csv).toMatch(new RegExp(`^s3://[^/]+/analytics/expiry_digest/run_date=${AS_OF}/[^/]+\\.csv$`));

    // The compliance outbox holds the digest (and the failure outbox nothing from it).
    const [message] = outbox("compliance");
    expect(outbox("compliance")).toHaveLength(1);
    expect(message.subject).toBe(`Accreditation expiry digest ${AS_OF}: ${expected.length} to act on`);
    expect(digest.notification).toEqual({ subject: message.subject, message: message.message });
    for (const row of expected.filter((r) => r.days_until_expiry >= 0))
      expect(message.message).toContain(row.accreditation_id);
    expect(message.message).toContain(digest.csv.replace(/^s3:\/\/[^/]+\//, ""));
    expect(outbox("notifications")).toEqual([]);
  });

  test("after a second upload the digest lists each facility's latest record only", async () => {
    const pipeline = await LocalPipeline.start({ stateDir, asOf: UPLOADED, retryIntervalMs: 1 });
    try {
      const run = await pipeline.runExecution(
        await pipeline.upload(file("v2.jsonl", jsonLines(v2)), "raw/changes.jsonl"),
      );
      expect(run.status).toBe("SUCCEEDED");
      const digest = await pipeline.runDigest({ asOf: AS_OF });
      expect(digest.status).toBe("SUCCEEDED");
      const published = digest.published!;
      const csv = await pipeline.s3.send(new GetObjectCommand({ Bucket: pipeline.bucket, Key: published.latestKey }));
      const text = await csv.Body!.transformToString();
      const expected = model([...v1, ...v2], AS_OF);
      expect(published.digest.rows).toBe(expected.length);
      expect(text.trim().split("\n")).toHaveLength(expected.length + 1);
      expect(text).not.toContain("COLA-41876");
      expect(text).toContain('"FAC-TX-0001","Lone Star Regional Medical Center","OK"');
      // The upkeep ran after the digest: OPTIMIZE then VACUUM (no pipeline execution was running).
      expect(Object.keys(digest.stateDurationsMs)).toEqual(
        expect.arrayContaining(["CheckPipelineIdle", "OptimizeCurrentState", "VacuumCurrentState"]),
      );
      expect(digest.output).toMatchObject({ upkeep: { outcome: "done", waits: 0 } });
    } finally {
      await pipeline.stop();
    }
  });

  test("nothing to report: no message, unless the all clear is asked for", async () => {
    const before = outbox("compliance").length;
    const quiet = await runCli("digest", "--target", "local", "--state-dir", stateDir, "--as-of", "2035-01-01");
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toContain("0 accreditation(s)");
    expect(quiet.stdout).toContain("Nothing sent to the compliance topic");
    expect(outbox("compliance")).toHaveLength(before);

    const pipeline = await LocalPipeline.start({ stateDir, retryIntervalMs: 1 });
    try {
      const clear = await pipeline.runDigest({ asOf: "2035-01-01", sendAllClear: true });
      expect(clear.status).toBe("SUCCEEDED");
      expect(clear.notifications.map((n) => n.subject)).toEqual(["Accreditation expiry digest 2035-01-01: all clear"]);
    } finally {
      await pipeline.stop();
    }
    expect(outbox("compliance")).toHaveLength(before + 1);
  });

  test("upkeep never runs while a pipeline execution (a MERGE) runs: it waits, then skips to next week", async () => {
    const pipeline = await LocalPipeline.start({ stateDir, asOf: UPLOADED, retryIntervalMs: 1 });
    try {
      // A registry big enough that its execution outlasts the digest and the (shortened) waits.
      const big = Array.from({ length: 20_000 }, (_, i) => ({
        ...v1[i % v1.length],
        facility_id: `FAC-BIG-${String(i).padStart(5, "0")}`,
      }));
      const key = await pipeline.upload(file("big.jsonl", jsonLines(big)), "raw/big.jsonl");
      const upload = pipeline.runExecution(key);
      const digest = await pipeline.runDigest({ asOf: AS_OF });
      expect(digest.status).toBe("SUCCEEDED");
      // The digest itself was sent; OPTIMIZE and VACUUM were not started.
      expect(digest.output).toMatchObject({ upkeep: { waits: 10, outcome: expect.stringMatching(/^skipped/) } });
      expect(Object.keys(digest.stateDurationsMs)).not.toContain("OptimizeCurrentState");
      expect(digest.notifications).toHaveLength(1);
      expect((await upload).status).toBe("SUCCEEDED");
    } finally {
      await pipeline.stop();
    }
  });

  test("a failed digest query goes to the failure topic, not to compliance", async () => {
    const before = outbox("compliance").length;
    const pipeline = await LocalPipeline.start({
      stateDir,
      retryIntervalMs: 1,
      injections: [{ state: "RunDigestQuery", error: "FAILED", times: Infinity }],
    });
    try {
      const failed = await pipeline.runDigest({ asOf: AS_OF });
      expect(failed.status).toBe("FAILED");
      expect(failed.notifications.map((n) => n.subject)).toEqual(["Facility expiry digest failed in RunDigestQuery"]);
    } finally {
      await pipeline.stop();
    }
    expect(outbox("compliance")).toHaveLength(before);
  });
});
