/** Reading where the pipeline is from `cdktf output --outputs-file` JSON, or flags. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthStack } from "../helpers/synth";
import { OUTPUT_IDS, matchesOutputId, resolveDeployment } from "../../aws/stack-outputs";

const dir = mkdtempSync(join(tmpdir(), "outputs-"));
function outputsFile(name: string, content: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
}

const ALL = ["bucket", "stateMachineArn", "topicArn", "workgroup", "database"] as const;
const VALUES = {
  bucket: "dev-facility-data",
  stateMachineArn: "arn:aws:states:eu-west-1:123456789012:stateMachine:dev-facility-pipeline",
  topicArn: "arn:aws:sns:eu-west-1:123456789012:dev-facility-pipeline-failures",
  workgroup: "dev-facility-pipeline",
  database: "healthcare_facility_db",
};

describe("resolveDeployment", () => {
  test("reads `cdktf output --outputs-file`: the stack's outputs keyed by construct path and hash", () => {
    const file = outputsFile("cdktf-output.json", {
      "facility-pipeline-dev": {
        pipeline_bucket_name_8AA69213: VALUES.bucket,
        pipeline_state_machine_arn_1F2E3D4C: VALUES.stateMachineArn,
        pipeline_failure_topic_arn_0A1B2C3D: VALUES.topicArn,
        pipeline_athena_workgroup_B0698EA6: VALUES.workgroup,
        pipeline_glue_database_CB9B4594: VALUES.database,
        pipeline_glue_table_ACD08E78: "facilities",
      },
    });
    expect(resolveDeployment({ needed: ALL, flags: {}, outputsFile: file })).toEqual(VALUES);
  });

  test("reads `cdktf deploy --outputs-file`: outputs nested by construct id", () => {
    const file = outputsFile("cdktf-deploy.json", {
      "facility-pipeline-prod": {
        pipeline: {
          bucket_name: VALUES.bucket,
          state_machine_arn: VALUES.stateMachineArn,
          failure_topic_arn: VALUES.topicArn,
          athena_workgroup: VALUES.workgroup,
          glue_database: VALUES.database,
        },
      },
    });
    expect(resolveDeployment({ needed: ALL, flags: {}, outputsFile: file })).toEqual(VALUES);
  });

  test("reads `terraform output -json`: no stack level, each value wrapped", () => {
    const file = outputsFile("terraform.json", {
      pipeline_state_machine_arn_1F2E3D4C: { sensitive: false, type: "string", value: VALUES.stateMachineArn },
    });
    expect(resolveDeployment({ needed: ["stateMachineArn"], flags: {}, outputsFile: file })).toEqual({
      stateMachineArn: VALUES.stateMachineArn,
    });
  });

  test("several stacks need --stack, and the message lists them", () => {
    const file = outputsFile("two-stacks.json", {
      "facility-pipeline-dev": { pipeline_state_machine_arn_1F2E3D4C: "dev-arn" },
      "facility-pipeline-prod": { pipeline_state_machine_arn_1F2E3D4C: "prod-arn" },
    });
    expect(() => resolveDeployment({ needed: ["stateMachineArn"], flags: {}, outputsFile: file })).toThrow(
      "holds the outputs of several stacks (facility-pipeline-dev, facility-pipeline-prod): pass --stack NAME",
    );
    expect(
      resolveDeployment({ needed: ["stateMachineArn"], flags: {}, outputsFile: file, stack: "facility-pipeline-prod" }),
    ).toEqual({ stateMachineArn: "prod-arn" });
    expect(() =>
      resolveDeployment({ needed: ["stateMachineArn"], flags: {}, outputsFile: file, stack: "facility-pipeline-qa" }),
    ).toThrow('has no stack "facility-pipeline-qa"; it has: facility-pipeline-dev, facility-pipeline-prod');
  });

  test("flags win over the file, and the file is not read when flags give everything needed", () => {
    expect(
      resolveDeployment({
        needed: ["stateMachineArn"],
        flags: { stateMachineArn: "from-flag" },
        outputsFile: join(dir, "does-not-exist.json"),
      }),
    ).toEqual({ stateMachineArn: "from-flag" });
  });

  test("a missing file says how to create it and which flags would do instead", () => {
    expect(() =>
      resolveDeployment({ needed: ["bucket", "stateMachineArn"], flags: {}, outputsFile: join(dir, "none.json") }),
    ).toThrow(
      /No outputs file .*none\.json.*\n.*\n {2}npx cdktf output --outputs-file .*none\.json\nor pass --outputs FILE, or the values themselves: --bucket VALUE --state-machine-arn VALUE/,
    );
  });

  test("an output the file lacks is named, with what the file has", () => {
    const file = outputsFile("old.json", { "facility-pipeline-dev": { pipeline_bucket_name_8AA69213: "b" } });
    expect(() => resolveDeployment({ needed: ["topicArn"], flags: {}, outputsFile: file })).toThrow(
      /no output named failure_topic_arn \(or ending in _failure_topic_arn\): pass --topic-arn\.\nOutputs found: pipeline_bucket_name_8AA69213\./,
    );
  });

  test("a file that is not JSON says so", () => {
    const file = outputsFile("broken.json", "{ not json");
    expect(() => resolveDeployment({ needed: ["bucket"], flags: {}, outputsFile: file })).toThrow(/is not JSON/);
  });
});

describe("the outputs the pipeline's stack declares", () => {
  test("each output the CLI reads is declared exactly once by the synthesized stack", () => {
    const declared = Object.keys(synthStack().output ?? {});
    for (const id of Object.values(OUTPUT_IDS)) {
      expect([id, declared.filter((key) => matchesOutputId(key, id))]).toEqual([id, [expect.any(String)]]);
    }
  });
});
