/**
 * Faults, in local mode: the real workflow (rendered ASL, handler code, DuckDB Athena, s3rver)
 * with errors injected where AWS would raise them. What is transient is retried and the run
 * succeeds; a MERGE that loses its commit to another is started again; anything else ends in
 * exactly one notification; staged objects are written whole or not at all.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { filterOutputKeys } from "../../lambdas/shared/output-keys";
import { COMMIT_CONFLICT, type ExecutionResult, type FaultInjection, type LocalPipeline } from "../../local/pipeline";
import { extendedSampleRecords } from "../fixtures/facilities";
import {
  EXTENDED,
  currentState,
  filesUnder,
  objectsUnder,
  publishedObjects,
  stateCounts,
  withPipeline,
} from "./helpers";

const SOURCE = "s3://local-facility-data/raw/extended_sample_facility_data.json";
const scratch = mkdtempSync(join(tmpdir(), "reliability-faults-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** What one clean run of the extended sample publishes, and the current state it leaves. */
let clean: Record<string, string>;
let cleanState: Awaited<ReturnType<typeof currentState>>;
beforeAll(async () => {
  [clean, cleanState] = await withPipeline({}, async (pipeline) => {
    expect((await pipeline.processFile(EXTENDED)).status).toBe("SUCCEEDED");
    return [await publishedObjects(pipeline), await currentState(pipeline)] as const;
  });
});

function run(injections: FaultInjection[], use?: (run: ExecutionResult, pipeline: LocalPipeline) => Promise<void>) {
  return withPipeline({ injections }, async (pipeline) => {
    const result = await pipeline.processFile(EXTENDED);
    await use?.(result, pipeline);
    return result;
  });
}

/** The outbox file's notifications: what SNS would have delivered to the topic's subscribers. */
function outbox(pipeline: LocalPipeline): { subject: string; message: string }[] {
  if (!existsSync(pipeline.outboxFile)) return [];
  return readFileSync(pipeline.outboxFile, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
}

describe("transient errors are retried and the run succeeds", () => {
  test.each([
    ["IngestFacilities", "Lambda.TooManyRequestsException", 3],
    ["PublishStateCounts", "Lambda.TooManyRequestsException", 2],
    ["PublishFacilitySummary", "Lambda.ServiceException", 1],
    ["CountAccreditedByState", "Athena.TooManyRequestsException", 4],
    ["ExtractFacilitySummary", "Athena.TooManyRequestsException", 2],
  ])(
    "%s throttled (%s), %d in a row: retried that often, no notification, the same outputs",
    async (state, error, times) => {
      await run([{ state, error, times }], async (result, pipeline) => {
        expect(result.status).toBe("SUCCEEDED");
        expect(result.retries).toBe(times);
        expect(result.notifications).toEqual([]);
        expect(outbox(pipeline)).toEqual([]);
        expect(await publishedObjects(pipeline)).toEqual(clean);
      });
    },
  );

  test.each([
    // MaxAttempts of each Retry in the definition.
    ["IngestFacilities", "Lambda.TooManyRequestsException", 6, "IngestFacilities"],
    ["CountAccreditedByState", "Athena.TooManyRequestsException", 5, "Analyze"],
  ])("%s throttled (%s) for good: %d retries, then one notification", async (state, error, retries, failedState) => {
    await run([{ state, error, times: Infinity }], async (result, pipeline) => {
      expect(result.status).toBe("FAILED");
      expect(result.retries).toBe(retries);
      expect(result.error?.error).toBe(error);
      expect(outbox(pipeline)).toHaveLength(1);
      expect(result.notifications[0].subject).toBe(`Facility pipeline failed in ${failedState}`);
      expect(result.notifications[0].message).toContain(`Error: ${error}`);
    });
  });
});

describe("a MERGE that loses its commit to a concurrent one (ICEBERG_COMMIT_ERROR)", () => {
  test("twice: started again after a wait each time, then the run succeeds with the same outputs and current state", async () => {
    await run([{ state: "MergeCurrentState", error: COMMIT_CONFLICT, times: 2 }], async (result, pipeline) => {
      expect(result.status).toBe("SUCCEEDED");
      expect(result.notifications).toEqual([]);
      expect(result.stateDurationsMs).toHaveProperty("WaitBeforeMerge");
      expect((result.output as { merge: { queryExecutionId: string } }).merge.queryExecutionId).toEqual(
        expect.any(String),
      );
      expect(await publishedObjects(pipeline)).toEqual(clean);
      expect(await currentState(pipeline)).toEqual(cleanState);
    });
  });

  test("for good: after the last bounded attempt, one notification naming MergeCurrentState, and no current row", async () => {
    await run([{ state: "MergeCurrentState", error: COMMIT_CONFLICT, times: Infinity }], async (result, pipeline) => {
      expect(result.status).toBe("FAILED");
      expect(result.notifications).toHaveLength(1);
      expect(outbox(pipeline)).toHaveLength(1);
      expect(result.notifications[0].subject).toBe("Facility pipeline failed in MergeCurrentState");
      expect(result.notifications[0].message).toContain(COMMIT_CONFLICT);
      expect(await currentState(pipeline)).toEqual([]);
    });
  });

  test("any other MERGE failure is not started again", async () => {
    await run([{ state: "MergeCurrentState", error: "FAILED", times: 1 }], async (result) => {
      expect(result.status).toBe("FAILED");
      expect(result.stateDurationsMs).not.toHaveProperty("WaitBeforeMerge");
      expect(result.notifications[0].subject).toBe("Facility pipeline failed in MergeCurrentState");
    });
  });
});

describe("a failure that is not transient ends in exactly one notification", () => {
  test.each([
    // [injected into, injected error, error the execution ends with, state the notification names]
    ["CountAccreditedByState", "FAILED", "States.TaskFailed", "Analyze"],
    ["IngestFacilities", "TypeError", "TypeError", "IngestFacilities"],
    ["IngestFacilities", "Error", "Error", "IngestFacilities"],
    ["PublishStateCounts", "TypeError", "TypeError", "Analyze"],
    ["PublishFacilitySummary", "Error", "Error", "Analyze"],
    ["IngestFacilities", "States.Timeout", "States.Timeout", "IngestFacilities"],
    ["ExtractFacilitySummary", "States.Timeout", "States.Timeout", "Analyze"],
  ])(
    "%s raising %s: not retried, run FAILED, one notification naming object, state, error and execution",
    async (state, injected, error, failedState) => {
      await run([{ state, error: injected, times: Infinity }], async (result, pipeline) => {
        expect(result.status).toBe("FAILED");
        expect(result.retries).toBe(0);
        expect(result.error?.error).toBe(error);
        expect(result.notifications).toHaveLength(1);
        expect(outbox(pipeline)).toHaveLength(1);

        const [notification] = result.notifications;
        expect(notification.topic).toBe("arn:aws:sns:us-east-1:000000000000:local-facility-pipeline-failures");
        expect(notification.subject).toBe(`Facility pipeline failed in ${failedState}`);
        expect(notification.message).toContain(`processing ${SOURCE}\n`);
        expect(notification.message).toContain(`Failed state: ${failedState}\n`);
        expect(notification.message).toContain(`Error: ${error}\n`);
        // A branch state is named at the start of the cause (a Catch cannot leave its branch).
        if (failedState === "Analyze") expect(notification.message).toContain(`Cause: ${state} failed: `);
        expect(notification.message).toContain(`Execution: ${result.executionArn}\n`);
      });
    },
  );
});

describe("staged objects are written whole or not at all", () => {
  const ingestOutputs = async (pipeline: LocalPipeline) => ({
    ...(await objectsUnder(pipeline, "staging/")),
    ...(await objectsUnder(pipeline, "rejected/")),
    ...(await objectsUnder(pipeline, "transformed/")),
  });
  const cleanIngestOutputs = () =>
    Object.fromEntries(Object.entries(clean).filter(([key]) => !key.startsWith("analytics/")));

  test("a failure after ingest (PublishFacilitySummary) leaves the ingest outputs exactly as a clean run writes them", async () => {
    await run([{ state: "PublishFacilitySummary", error: "Error", times: Infinity }], async (result, pipeline) => {
      expect(result.status).toBe("FAILED");
      expect(result.ingest).toMatchObject({ records: 10, valid: 10, rejected: 0 });
      expect(await ingestOutputs(pipeline)).toEqual(cleanIngestOutputs());
    });
  });

  test("an ingest retried after it had written its outputs (a lost response) rewrites the same objects", async () => {
    await run(
      [{ state: "IngestFacilities", error: "Lambda.TooManyRequestsException", times: 1, when: "after" }],
      async (result, pipeline) => {
        expect(result.status).toBe("SUCCEEDED");
        expect(result.retries).toBe(1);
        expect(await publishedObjects(pipeline)).toEqual(clean);
      },
    );
  });

  describe("an ingest that fails part-way, after a first upload part of staged output was sent", () => {
    // 24,000 valid records (about 14 MB of staged JSON Lines, several 5 MiB upload parts), gzipped
    // and cut at 90%: the handler has uploaded a first part when the gzip stream ends early.
    const records = extendedSampleRecords();
    const lines = Array.from({ length: 24_000 }, (_, i) =>
      JSON.stringify({ ...records[i % records.length], facility_id: `FAC-BIG-${String(i).padStart(5, "0")}` }),
    );
    const whole = gzipSync(`${lines.join("\n")}\n`);
    const truncated = join(scratch, "truncated.jsonl.gz");
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length * 0.9)));
    const previous = join(scratch, "previous.jsonl.gz");
    writeFileSync(previous, gzipSync(readFileSync(EXTENDED)));
    /** Where the ingest of the truncated file, uploaded to `key`, stages its records (s3rver's ETag is the MD5). */
    const truncatedStaging = (key: string) =>
      filterOutputKeys(key, { etag: createHash("md5").update(readFileSync(truncated)).digest("hex") }).staging;

    /**
     * The multipart uploads s3rver keeps on disk (it does not implement AbortMultipartUpload, so an
     * aborted one stays there, never as an object): key -> sizes of the parts received.
     */
    const multipartUploads = (pipeline: LocalPipeline) => {
      const files = filesUnder(join(pipeline.stateDir, "s3")).filter((file) => file.includes("_S3rver_uploads"));
      return Object.fromEntries(
        files
          .filter((file) => basename(file) === "key")
          .map((keyFile) => [
            readFileSync(keyFile, "utf8"),
            files
              .filter((file) => dirname(file) === dirname(keyFile) && /^\d+$/.test(basename(file)))
              .map((part) => statSync(part).size),
          ]),
      );
    };
    /** Asserts that S3 received part of `key` as a multipart upload (and nothing else). */
    const expectPartsReceived = (pipeline: LocalPipeline, key: string) => {
      const uploads = multipartUploads(pipeline);
      expect(Object.keys(uploads)).toEqual([key]);
      expect(uploads[key].length).toBeGreaterThan(0);
    };

    test("keeps the previous version of every output whole", async () => {
      await withPipeline({}, async (pipeline) => {
        const key = "raw/facilities.jsonl.gz";
        const first = await pipeline.runExecution(await pipeline.upload(previous, key));
        expect(first.status).toBe("SUCCEEDED");
        const before = await ingestOutputs(pipeline);
        const countsBefore = await stateCounts(pipeline);
        const stateBefore = await currentState(pipeline);
        expect(before[(first.ingest!.outputs as { staging: string }).staging].trim().split("\n")).toHaveLength(10);

        const second = await pipeline.runExecution(await pipeline.upload(truncated, key));

        expect(second.status).toBe("FAILED");
        expect(second.error?.error).toBe("CorruptGzipError");
        expect(second.notifications).toHaveLength(1);
        // The failure came after a multipart upload of the staged object had started...
        expectPartsReceived(pipeline, truncatedStaging(key));
        // ...and none of it became visible: every output is still the previous version's, whole,
        // no MERGE ran, and the current state is the previous upload's.
        expect(await ingestOutputs(pipeline)).toEqual(before);
        expect(second.stateDurationsMs).not.toHaveProperty("MergeCurrentState");
        expect(await stateCounts(pipeline)).toEqual(countsBefore);
        expect(await currentState(pipeline)).toEqual(stateBefore);
      });
    });

    test("without a previous version, leaves no output at all", async () => {
      await withPipeline({}, async (pipeline) => {
        const result = await pipeline.runExecution(await pipeline.upload(truncated, "raw/new.jsonl.gz"));

        expect(result.status).toBe("FAILED");
        expect(result.error?.error).toBe("CorruptGzipError");
        expectPartsReceived(pipeline, truncatedStaging("raw/new.jsonl.gz"));
        expect(await ingestOutputs(pipeline)).toEqual({});
      });
    });
  });
});
