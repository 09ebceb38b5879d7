import { cdktfCommand } from "../../scripts/cdktf-env";

const KNOWN = ["dev", "prod"];

describe("npm run diff|deploy -- ENV", () => {
  test("names the stack of the environment and passes the options on", () => {
    expect(cdktfCommand("deploy", ["prod", "--auto-approve"], undefined, KNOWN)).toEqual({
      environment: "prod",
      args: ["deploy", "facility-pipeline-prod", "--auto-approve"],
    });
    // The stack's name works too, and a matching FACILITY_PIPELINE_ENV.
    expect(cdktfCommand("diff", ["facility-pipeline-dev"], "dev", KNOWN).args).toEqual([
      "diff",
      "facility-pipeline-dev",
    ]);
  });

  test("FACILITY_PIPELINE_ENV selecting another environment is a hint, not a 'Could not find stack'", () => {
    expect(() => cdktfCommand("deploy", ["prod"], "dev", KNOWN)).toThrow(
      "FACILITY_PIPELINE_ENV=dev selects the stack facility-pipeline-dev, not facility-pipeline-prod: unset it, or run FACILITY_PIPELINE_ENV=prod npm run deploy -- prod",
    );
  });

  test("an environment without a config file, or none, lists the known ones", () => {
    expect(() => cdktfCommand("diff", ["staging"], undefined, KNOWN)).toThrow(
      'No configuration for environment "staging" (config/staging.json). Known environments: dev, prod',
    );
    expect(() => cdktfCommand("diff", [], undefined, KNOWN)).toThrow("name the environment (dev, prod)");
    expect(() => cdktfCommand("diff", ["--auto-approve"], undefined, KNOWN)).toThrow("name the environment");
  });

  test("the environments come from config/ by default", () => {
    expect(cdktfCommand("diff", ["prod"], undefined).args[1]).toBe("facility-pipeline-prod");
  });
});
