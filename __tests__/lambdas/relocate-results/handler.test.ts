import "../../helpers/lambda-environment";
import { handler } from "../../../lambdas/relocate-results/handler";
import { BUCKET, failure, OTHER_BUCKET, startTestS3, type TestS3 } from "../../helpers/test-s3";

let s3: TestS3;
beforeAll(async () => {
  s3 = await startTestS3();
});
afterAll(async () => {
  await s3.stop();
});

const CSV = '"state","accredited_facility_count"\n"TX","2"\n"CA","1"\n';
const QUERY_ID = "6f1c8a52-1b7e-4c3e-9d4f-2a1b3c4d5e6f";

function event(changes: Record<string, unknown> = {}) {
  return {
    dataset: "state_counts",
    queryExecutionId: QUERY_ID,
    outputLocation: `s3://${BUCKET}/athena-results/${QUERY_ID}.csv`,
    executionName: "3b9d1c2e-upload-raw-facilities",
    asOf: "2026-11-26T14:24:24.123Z",
    ...changes,
  };
}

describe("relocate-results", () => {
  beforeAll(async () => {
    await s3.put(`athena-results/${QUERY_ID}.csv`, CSV);
  });

  test("copies the result to its run_date partition and to latest.csv", async () => {
    const result = await handler(event());
    expect(result).toEqual({
      dataset: "state_counts",
      source: `s3://${BUCKET}/athena-results/${QUERY_ID}.csv`,
      runKey: "analytics/state_counts/run_date=2026-11-26/3b9d1c2e-upload-raw-facilities.csv",
      latestKey: "analytics/state_counts/latest.csv",
    });
    expect(await s3.text(result.runKey)).toBe(CSV);
    expect(await s3.text(result.latestKey)).toBe(CSV);
    expect(await s3.text(`athena-results/${QUERY_ID}.csv`)).toBe(CSV); // the source stays
  });

  test("the run date is the UTC date of the execution's start", async () => {
    const result = await handler(
      event({ asOf: "2026-11-26T21:30:00-05:00", executionName: "late-evening" }),
    );
    expect(result.runKey).toBe("analytics/state_counts/run_date=2026-11-27/late-evening.csv");
  });

  test("a later run replaces latest.csv and keeps the earlier run's partition", async () => {
    const newer = '"state","accredited_facility_count"\n"TX","3"\n';
    await s3.put("athena-results/second.csv", newer);
    await handler(event({ dataset: "replaced", executionName: "first" }));
    const second = await handler(
      event({
        dataset: "replaced",
        executionName: "second",
        outputLocation: `s3://${BUCKET}/athena-results/second.csv`,
      }),
    );
    expect(await s3.text(second.latestKey)).toBe(newer);
    expect(await s3.keys("analytics/replaced/")).toEqual([
      "analytics/replaced/latest.csv",
      "analytics/replaced/run_date=2026-11-26/first.csv",
      "analytics/replaced/run_date=2026-11-26/second.csv",
    ]);
    expect(await s3.text("analytics/replaced/run_date=2026-11-26/first.csv")).toBe(CSV);
  });

  test("accepts a result in a subfolder of athena-results/", async () => {
    await s3.put("athena-results/Unsaved/2026/11/26/q.csv", CSV);
    const result = await handler(
      event({ dataset: "nested", outputLocation: `s3://${BUCKET}/athena-results/Unsaved/2026/11/26/q.csv` }),
    );
    expect(await s3.text(result.latestKey)).toBe(CSV);
  });

  test("a result that does not exist", async () => {
    const error = await failure(handler(event({ outputLocation: `s3://${BUCKET}/athena-results/missing.csv` })));
    expect(error.name).toBe("SourceNotFoundError");
    expect(error.message).toBe(`The query result s3://${BUCKET}/athena-results/missing.csv does not exist`);
  });
});

describe("relocate-results guards", () => {
  let analyticsBefore: string[];
  beforeAll(async () => {
    await s3.put("raw/secret.csv", "do not publish\n");
    await s3.put(`athena-results/${QUERY_ID}.csv`, CSV, OTHER_BUCKET);
    analyticsBefore = await s3.keys("analytics/");
  });
  afterAll(async () => {
    // None of the refused events wrote anything.
    expect(await s3.keys("analytics/")).toEqual(analyticsBefore);
  });

  test("refuses a source in another bucket", async () => {
    const error = await failure(
      handler(event({ outputLocation: `s3://${OTHER_BUCKET}/athena-results/${QUERY_ID}.csv` })),
    );
    expect(error.name).toBe("BucketNotAllowedError");
    expect(error.message).toBe(
      `relocate-results only copies from the data bucket "${BUCKET}" (DATA_BUCKET); outputLocation names "${OTHER_BUCKET}"`,
    );
  });

  test.each([
    "raw/secret.csv",
    "athena-results/../raw/secret.csv",
    "athena-results//x.csv",
    "curated/facilities/a.csv",
  ])("refuses a source outside athena-results/: %s", async (key) => {
    const error = await failure(handler(event({ outputLocation: `s3://${BUCKET}/${key}` })));
    expect(error.name).toBe("PrefixNotAllowedError");
    expect(error.message).toContain(`"${key}" is not allowed: expected a key under "athena-results/"`);
  });

  test.each<[string, Record<string, unknown>, string]>([
    ["a dataset with ..", { dataset: "../raw" }, "dataset"],
    ["a dataset with /", { dataset: "state_counts/../../raw" }, "dataset"],
    ["an uppercase dataset", { dataset: "StateCounts" }, "dataset"],
    ["an execution name with /", { executionName: "a/b" }, "executionName"],
    ["an execution name of ..", { executionName: ".." }, "executionName"],
    ["an execution name with ..", { executionName: "x..y" }, "executionName"],
    [
      "a result that is not CSV",
      { outputLocation: `s3://${BUCKET}/athena-results/${QUERY_ID}.csv.metadata` },
      "outputLocation",
    ],
    ["an outputLocation that is not an S3 URI", { outputLocation: `${BUCKET}/athena-results/x.csv` }, "outputLocation"],
    ["a start time without a zone", { asOf: "2026-11-26T14:24:24" }, "asOf"],
    ["a missing query id", { queryExecutionId: undefined }, "queryExecutionId"],
  ])("refuses %s", async (_what, changes, field) => {
    const error = await failure(handler(event(changes)));
    expect(error.name).toBe("InvalidEventError");
    expect(error.message).toMatch(new RegExp(`^Invalid relocate-results event:\\n  - ${field}: `));
  });

  test("lists every problem of an event at once", async () => {
    const error = await failure(handler({ dataset: "A B", executionName: "", asOf: 5 }));
    expect(error.message.split("\n").map((line) => line.split(":")[0])).toEqual([
      "Invalid relocate-results event",
      "  - dataset",
      "  - queryExecutionId",
      "  - outputLocation",
      "  - executionName",
      "  - asOf",
    ]);
  });
});
