import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listEnvironments, loadConfig } from "../../config/load";
import { ConfigError, parseConfig } from "../../config/schema";

const valid = { namePrefix: "hfap-dev", region: "us-east-1" };

describe("config validation", () => {
  test("defaults fill every optional field", () => {
    expect(parseConfig(valid)).toEqual({
      namePrefix: "hfap-dev",
      region: "us-east-1",
      alertEmails: [],
      complianceEmails: [],
      digestSchedule: "cron(0 6 ? * MON *)",
      digestTimeZone: "UTC",
      digestLookbackDays: 30,
      digestSendAllClear: false,
      expiryWindowMonths: 6,
      logRetentionDays: 90,
      maxRejectedShare: 0.1,
      athenaBytesScannedCutoff: 1024 ** 3,
      functions: {},
      backend: { type: "local" },
      tags: {},
    });
  });

  test.each([
    [
      "namePrefix",
      { namePrefix: "HFAP_dev" },
      /namePrefix: lowercase letters, digits and hyphens.*\(received "HFAP_dev"\)/,
    ],
    ["namePrefix missing", { namePrefix: undefined }, /namePrefix: .*\(received nothing\)/],
    ["region", { region: "us-east" }, /region: an AWS region such as us-east-1 \(received "us-east"\)/],
    [
      "digestLookbackDays",
      { digestLookbackDays: 400 },
      /digestLookbackDays: a whole number from 0 to 365 \(received 400\)/,
    ],
    [
      "complianceEmails",
      { complianceEmails: ["not-an-address"] },
      /complianceEmails\.0: an email address \(received "not-an-address"\)/,
    ],
    ["bucketName", { bucketName: "Bad_Bucket" }, /bucketName: a valid S3 bucket name.*\(received "Bad_Bucket"\)/],
    [
      "alertEmails",
      { alertEmails: ["ops@example.org", "not-an-email"] },
      /alertEmails\.1: an email address \(received "not-an-email"\)/,
    ],
    [
      "expiryWindowMonths",
      { expiryWindowMonths: 2.5 },
      /expiryWindowMonths: a whole number of months \(received 2.5\)/,
    ],
    ["expiryWindowMonths range", { expiryWindowMonths: 0 }, /expiryWindowMonths: .*\(received 0\)/],
    [
      "logRetentionDays",
      { logRetentionDays: 45 },
      /logRetentionDays: one of CloudWatch's retention periods: 1, 3, .* \(received 45\)/,
    ],
    [
      "athenaBytesScannedCutoff",
      { athenaBytesScannedCutoff: 1000 },
      /athenaBytesScannedCutoff: at least 10000000 bytes \(Athena's minimum\) \(received 1000\)/,
    ],
    [
      "tags",
      { tags: { "aws:owner": "me" } },
      /tags\.aws:owner: a tag key not starting with aws: \(received key "aws:owner"\)/,
    ],
    ["unknown field", { bucket: "typo" }, /\(root\): unknown field\(s\) bucket/],
  ])("rejects a bad %s with its path, value and expectation", (_rule, override, message) => {
    expect(() => parseConfig({ ...valid, ...override })).toThrow(ConfigError);
    expect(() => parseConfig({ ...valid, ...override })).toThrow(message);
  });

  test("every problem is reported at once", () => {
    let error: unknown;
    try {
      parseConfig({ namePrefix: "X", region: "mars-1", expiryWindowMonths: "six" }, "config/broken.json");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const lines = (error as Error).message.split("\n");
    expect(lines[0]).toBe("Invalid configuration in config/broken.json:");
    expect(lines.slice(1).map((line) => line.split(":")[0].trim())).toEqual([
      "- namePrefix",
      "- region",
      "- expiryWindowMonths",
    ]);
  });
});

describe("config files", () => {
  test("dev and prod ship as examples and are valid", () => {
    expect(listEnvironments()).toEqual(expect.arrayContaining(["dev", "prod"]));
    expect(loadConfig("dev").namePrefix).toBe("hfap-dev");
    expect(loadConfig("prod").logRetentionDays).toBe(365);
  });

  test("an unknown environment names the file it looked for and the known ones", () => {
    expect(() => loadConfig("staging")).toThrow(
      /No configuration for environment "staging": expected .*staging\.json\. Known environments: dev, prod/,
    );
  });

  test("a file that is not JSON is named in the error", () => {
    const dir = mkdtempSync(join(tmpdir(), "config-"));
    writeFileSync(join(dir, "qa.json"), "{ namePrefix: ");
    expect(() => loadConfig("qa", dir)).toThrow(/qa\.json is not valid JSON/);
  });

  test("an invalid file names the file in the error", () => {
    const dir = mkdtempSync(join(tmpdir(), "config-"));
    writeFileSync(join(dir, "qa.json"), JSON.stringify({ namePrefix: "qa", region: "us-east-1", logRetentionDays: 2 }));
    expect(() => loadConfig("qa", dir)).toThrow(
      /Invalid configuration in .*qa\.json:\n {2}- namePrefix: .*\n {2}- logRetentionDays/,
    );
  });
});

describe("a KMS key in another region", () => {
  test("is rejected, together with every other problem, naming both regions", () => {
    const key = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
    expect(() => parseConfig({ ...valid, kmsKeyArn: key, logRetentionDays: 45 })).toThrow(
      /logRetentionDays: .*\(received 45\)\n {2}- kmsKeyArn: a KMS key in the stack's region us-east-1, not eu-west-1/,
    );
    expect(parseConfig({ ...valid, kmsKeyArn: key.replace("eu-west-1", "us-east-1") }).kmsKeyArn).toContain(
      ":us-east-1:",
    );
  });
});
