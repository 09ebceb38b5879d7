/**
 * Imported first by every Lambda test: settles the environment before any handler module (and
 * its logger) is loaded. The endpoint itself is set later by startTestS3(); the handlers create
 * their S3 client on first use, so that is early enough.
 */
Object.assign(process.env, {
  POWERTOOLS_LOG_LEVEL: "SILENT",
  AWS_REGION: "us-east-1",
  AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
  AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED",
});
delete process.env.AWS_PROFILE;

export {};
