import { synthStack, resourcesOfType, type SynthesizedStack } from "./helpers/synth";
import { buildApp } from "../main";
import { Testing } from "cdktf";

describe("the synthesized stack", () => {
  // The test config's stack, synthesized once: the tests below only read it.
  let stack: SynthesizedStack;
  beforeAll(() => {
    stack = synthStack();
  });

  test("matches the reviewed snapshot", () => {
    expect(stack).toMatchSnapshot();
  });

  test("contains every resource of the foundation", () => {
    for (const type of [
      "aws_s3_bucket",
      "aws_s3_bucket_public_access_block",
      "aws_s3_bucket_ownership_controls",
      "aws_s3_bucket_server_side_encryption_configuration",
      "aws_s3_bucket_versioning",
      "aws_s3_bucket_policy",
      "aws_s3_bucket_lifecycle_configuration",
      "aws_s3_bucket_notification",
      "aws_glue_catalog_database",
      "aws_glue_catalog_table",
      "aws_athena_workgroup",
      "aws_athena_named_query",
    ]) {
      expect(Object.keys(resourcesOfType(stack, type)).length).toBeGreaterThan(0);
    }
  });

  test("config tags become the provider's default tags", () => {
    const provider = synthStack({ tags: { "cost-center": "cc-42" } }).provider.aws[0] as {
      default_tags: Array<{ tags: Record<string, string> }>;
    };
    expect(provider.default_tags[0].tags).toMatchObject({ "cost-center": "cc-42", "managed-by": "cdktf" });
  });

  test("state stays in a local backend with a machine-independent path", () => {
    expect(stack.terraform.backend).toEqual({
      local: { path: "../../../terraform.facility-pipeline-test.tfstate" },
    });
  });

  test("each shipped environment config synthesizes", () => {
    for (const environment of ["dev", "prod"]) {
      const app = buildApp(environment, Testing.app());
      expect(app.node.findChild(`facility-pipeline-${environment}`)).toBeDefined();
    }
  });
});
