/**
 * The part of asl-validator 4's JavaScript API that core/asl.ts uses (the package ships no types).
 * Note: the validator writes a default QueryLanguage into every state of the object it is given.
 */
declare module "asl-validator" {
  interface AslValidatorOptions {
    /** Validate JSONPath and intrinsic-function expressions. */
    checkPaths: boolean;
    /** Validate Task `Resource` values as ARNs (or `${...}` substitutions). */
    checkArn: boolean;
  }

  interface AslValidatorError {
    "Error code": string;
    Message: string;
  }

  interface AslValidatorResult {
    isValid: boolean;
    errors: AslValidatorError[];
    errorsText(separator?: string): string;
  }

  function validator(definition: unknown, options?: AslValidatorOptions): AslValidatorResult;
  export = validator;
}
