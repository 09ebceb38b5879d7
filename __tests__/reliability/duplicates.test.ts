/**
 * At-least-once delivery and concurrency, in local mode: a redelivered "Object Created" event and
 * two uploads processed at once publish exactly what one clean delivery of each does, and a
 * retried Athena start does not run its query twice.
 */
import { createHash } from "node:crypto";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { StateMachine } from "aws-local-stepfunctions";
import {
  FACILITY_PIPELINE,
  examplesFor,
  executionContext,
  loadStateMachine,
  renderStateMachine,
  taskStatesOf,
} from "../../core/asl";
import { objectCreatedEvent, type ExecutionResult, type LocalPipeline } from "../../local/pipeline";
import { AS_OF, EXTENDED, SAMPLE, publishedObjects, stateCounts, withPipeline } from "./helpers";

/** The event EventBridge would deliver for an object already uploaded. */
async function eventFor(pipeline: LocalPipeline, key: string): Promise<Record<string, unknown>> {
  const head = await pipeline.s3.send(new HeadObjectCommand({ Bucket: pipeline.bucket, Key: key }));
  return objectCreatedEvent(key, head.ContentLength ?? 0, (head.ETag ?? "").replaceAll('"', ""), `${AS_OF}T00:00:00Z`);
}

/** What a pipeline published, and the ingest counts of each run. */
async function outcome(pipeline: LocalPipeline, runs: readonly ExecutionResult[]) {
  for (const run of runs) expect(run.status).toBe("SUCCEEDED");
  return {
    objects: await publishedObjects(pipeline),
    stateCounts: await stateCounts(pipeline),
    // The ingest counts and keys; the event time is the upload's, which differs between pipelines.
    ingest: Object.fromEntries(runs.map((run) => [run.source, { ...run.ingest, eventTime: "…" }])),
  };
}

/** The Athena result objects: one per query that ran. */
async function athenaResults(pipeline: LocalPipeline): Promise<string[]> {
  return (await pipeline.listKeys("athena-results/")).filter((key) => key.endsWith(".csv"));
}

describe("the same Object Created event delivered twice", () => {
  let once: Awaited<ReturnType<typeof outcome>>;
  beforeAll(async () => {
    once = await withPipeline({}, async (pipeline) => outcome(pipeline, [await pipeline.processFile(EXTENDED)]));
  });

  test("to the same execution name: every published object and count is exactly as after one delivery", async () => {
    const twice = await withPipeline({}, async (pipeline) => {
      const event = await eventFor(pipeline, await pipeline.upload(EXTENDED));
      const first = await pipeline.runEvent(event);
      const second = await pipeline.runEvent(event);
      expect(second.executionName).toBe(first.executionName);
      return outcome(pipeline, [first, second]);
    });

    expect(twice).toEqual(once);
  });

  test("after another upload, a redelivery counts both: it queries the table again instead of replaying its first query", async () => {
    await withPipeline({}, async (pipeline) => {
      const event = await eventFor(pipeline, await pipeline.upload(EXTENDED));
      await pipeline.runEvent(event);
      await pipeline.processFile(SAMPLE);
      const countsOverBoth = await stateCounts(pipeline);

      const redelivered = await pipeline.runEvent(event);

      expect(redelivered.status).toBe("SUCCEEDED");
      expect(await stateCounts(pipeline)).toEqual(countsOverBoth);
      expect(countsOverBoth).toContainEqual({
        state: "NY",
        accredited_facility_count: "1",
        currently_accredited_facility_count: "1",
      });
      // Three queries per execution (the MERGE and two analyses), the redelivery's included; its
      // MERGE found nothing newer than the current rows, so the counts are unchanged.
      expect(await athenaResults(pipeline)).toHaveLength(9);
    });
  });

  test("as AWS starts it (a new execution each time): the same objects, plus the second run's own record under analytics/", async () => {
    await withPipeline({}, async (pipeline) => {
      const event = await eventFor(pipeline, await pipeline.upload(EXTENDED));
      const first = await pipeline.runEvent(event);
      const second = await pipeline.runEvent(event, { executionName: "5d1f0c1e-redelivery" });
      const twice = await outcome(pipeline, [first, second]);

      // analytics/<dataset>/run_date=<date>/<executionName>.csv is a record of each execution, by
      // design: the only keys that are not derived from the source key alone.
      const runRecords = ["state_counts", "facility_summary"].map(
        (dataset) => `analytics/${dataset}/run_date=${AS_OF}/${second.executionName}.csv`,
      );
      const { [runRecords[0]]: stateCountsRun, [runRecords[1]]: summaryRun, ...rest } = twice.objects;
      expect(rest).toEqual(once.objects);
      expect(stateCountsRun).toBe(once.objects["analytics/state_counts/latest.csv"]);
      expect(summaryRun).toBe(once.objects["analytics/facility_summary/latest.csv"]);
      expect(twice.stateCounts).toEqual(once.stateCounts);
      expect(second.ingest).toEqual(first.ingest);
      // A new execution is a new request: its queries run again (3 + 3).
      expect(await athenaResults(pipeline)).toHaveLength(6);
    });
  });
});

describe("two different uploads processed concurrently", () => {
  /** analytics/<dataset>/run_date=.../<executionName>.csv: what that execution's query saw. */
  const isRunRecord = (key: string) => /^analytics\/[^/]+\/run_date=/.test(key);
  const withoutRunRecords = (objects: Record<string, string>) =>
    Object.fromEntries(Object.entries(objects).filter(([key]) => !isRunRecord(key)));

  test("publish exactly the objects and per-state counts of processing each once, one after the other", async () => {
    const sequential = await withPipeline({}, async (pipeline) => {
      const [a, b] = [await pipeline.upload(EXTENDED), await pipeline.upload(SAMPLE)];
      return outcome(pipeline, [await pipeline.runExecution(a), await pipeline.runExecution(b)]);
    });
    let extendedRun: ExecutionResult | undefined;
    let sampleRun: ExecutionResult | undefined;
    const concurrent = await withPipeline({}, async (pipeline) => {
      const [a, b] = [await pipeline.upload(EXTENDED), await pipeline.upload(SAMPLE)];
      [extendedRun, sampleRun] = await Promise.all([pipeline.runExecution(a), pipeline.runExecution(b)]);
      return outcome(pipeline, [extendedRun, sampleRun]);
    });

    expect(withoutRunRecords(concurrent.objects)).toEqual(withoutRunRecords(sequential.objects));
    expect(concurrent.stateCounts).toEqual(sequential.stateCounts);
    expect(concurrent.ingest).toEqual(sequential.ingest);
    // Both uploads are in the counts: TX has one facility in each file, NY only in the sample.
    expect(concurrent.stateCounts).toEqual(
      expect.arrayContaining([
        { state: "NY", accredited_facility_count: "1", currently_accredited_facility_count: "1" },
        { state: "TX", accredited_facility_count: "2", currently_accredited_facility_count: "1" },
      ]),
    );
    // Each execution keeps one run record per dataset. Its query read the whole table when it ran,
    // so with two executions at once it saw either its own upload alone or both uploads.
    const runRecords = Object.keys(concurrent.objects).filter(isRunRecord);
    expect(runRecords).toEqual(Object.keys(sequential.objects).filter(isRunRecord));
    expect(runRecords).toHaveLength(4);
    for (const [file, run] of [
      [EXTENDED, extendedRun],
      [SAMPLE, sampleRun],
    ] as const) {
      const aloneObjects = await withPipeline({}, async (pipeline) => {
        await pipeline.processFile(file);
        return publishedObjects(pipeline);
      });
      for (const dataset of ["state_counts", "facility_summary"]) {
        const record = concurrent.objects[`analytics/${dataset}/run_date=${AS_OF}/${run!.executionName}.csv`];
        expect([
          aloneObjects[`analytics/${dataset}/latest.csv`],
          concurrent.objects[`analytics/${dataset}/latest.csv`],
        ]).toContain(record);
      }
    }
  });
});

describe("the Athena request token (ClientRequestToken)", () => {
  test("a start retried after its query ran gets that query back: no second query, no second result", async () => {
    await withPipeline(
      {
        // The throttle arrives after the query ran, as when the response to the start is lost.
        injections: ["CountAccreditedByState", "ExtractFacilitySummary"].map((state) => ({
          state,
          error: "Athena.TooManyRequestsException",
          times: 1,
          when: "after" as const,
        })),
      },
      async (pipeline) => {
        const run = await pipeline.processFile(EXTENDED);

        expect(run.status).toBe("SUCCEEDED");
        expect(run.retries).toBe(2);
        // One result for the MERGE and one for each analysis, however often each start was sent.
        const results = await athenaResults(pipeline);
        expect(results).toHaveLength(3);
        const published = (run.output as { analytics: Record<string, { source: string }> }).analytics;
        const analyses = [published.stateCounts.source, published.facilitySummary.source];
        expect(results.map((key) => `s3://${pipeline.bucket}/${key}`)).toEqual(expect.arrayContaining(analyses));
      },
    );
  });

  test("is SHA-256 of the execution, its redrive count and the state (and the MERGE's attempt): stable on retry, distinct per state, execution, redrive and attempt", async () => {
    const definition = renderStateMachine(
      loadStateMachine(FACILITY_PIPELINE),
      examplesFor(loadStateMachine(FACILITY_PIPELINE)),
    );
    const expressions = Object.fromEntries(
      taskStatesOf(definition)
        .filter(({ resource }) => resource.startsWith("arn:aws:states:::athena:"))
        .map(({ name, state }) => [name, (state.Parameters as Record<string, string>)["ClientRequestToken.$"]]),
    );
    expect(Object.keys(expressions).sort()).toEqual([
      "CountAccreditedByState",
      "ExtractFacilitySummary",
      "MergeCurrentState",
    ]);

    // AWS hashes the whole formatted string; aws-local-stepfunctions 3.0.0 gets SHA-256 wrong past
    // 55 bytes, so the string is formatted by the interpreter and hashed here.
    const stateMachineArn = "arn:aws:states:us-east-1:123456789012:stateMachine:hfap-facility-pipeline";
    const token = async (state: string, executionName: string, redriveCount = 0, input = {}): Promise<string> => {
      const format = /^States\.Hash\((States\.Format\(.*\)), 'SHA-256'\)$/.exec(expressions[state])![1];
      const machine = new StateMachine({
        StartAt: "Format",
        States: { Format: { Type: "Pass", Parameters: { "text.$": format }, End: true } },
      } as never);
      const context = executionContext(stateMachineArn, executionName);
      context.Execution.RedriveCount = redriveCount;
      const { text } = (await machine.run(input as never, { context: context as never }).result) as { text: string };
      return createHash("sha256").update(text).digest("hex");
    };

    const execution = "3f0d6b1e-8d1c-4a51-9a43-0c6c1c7f9e21";
    const count = await token("CountAccreditedByState", execution);
    expect(count).toMatch(/^[0-9a-f]{64}$/); // Athena accepts 32 to 128 characters
    expect(await token("CountAccreditedByState", execution)).toBe(count);
    expect(await token("ExtractFacilitySummary", execution)).not.toBe(count);
    expect(await token("CountAccreditedByState", "9b2c4d6e-another-execution")).not.toBe(count);
    expect(await token("CountAccreditedByState", execution, 1)).not.toBe(count);
    // The MERGE's token also names its attempt: a start after a commit conflict is a new query.
    const merge = (attempt: number) => token("MergeCurrentState", execution, 0, { mergeRetry: { attempt } });
    expect(await merge(0)).toBe(await merge(0));
    expect(await merge(1)).not.toBe(await merge(0));
    expect(await merge(0)).not.toBe(count);
  });
});
