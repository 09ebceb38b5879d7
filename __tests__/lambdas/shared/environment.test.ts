import { integerEnv, requiredEnv } from "../../../lambdas/shared/environment";
import { EnvironmentError } from "../../../lambdas/shared/errors";

describe("environment helpers", () => {
  test("requiredEnv names the missing variable", () => {
    expect(() => requiredEnv("DATA_BUCKET", {})).toThrow(
      new EnvironmentError("Environment variable DATA_BUCKET is not set; the function's configuration must set it"),
    );
    expect(() => requiredEnv("DATA_BUCKET", { DATA_BUCKET: " " })).toThrow(EnvironmentError);
    expect(requiredEnv("DATA_BUCKET", { DATA_BUCKET: "b" })).toBe("b");
  });

  test("integerEnv applies the default and refuses anything but a whole number in range", () => {
    const options = { default: 6, min: 1, max: 60 };
    expect(integerEnv("MAX_LINE_BYTES", options, {})).toBe(6);
    expect(integerEnv("MAX_LINE_BYTES", options, { MAX_LINE_BYTES: "12" })).toBe(12);
    for (const value of ["0", "61", "6.5", "six", "1e1", "0x10"]) {
      expect(() => integerEnv("MAX_LINE_BYTES", options, { MAX_LINE_BYTES: value })).toThrow(
        `Environment variable MAX_LINE_BYTES must be a whole number from 1 to 60 (received ${JSON.stringify(value)})`,
      );
    }
  });
});
