import { s3Client } from "../../../lambdas/shared/s3";

describe("s3Client", () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_S3_FORCE_PATH_STYLE", "AWS_REGION"]) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  test("is configured by the environment only, and kept while it does not change", async () => {
    process.env.AWS_REGION = "eu-west-1";
    delete process.env.AWS_ENDPOINT_URL_S3;
    delete process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_S3_FORCE_PATH_STYLE;
    const aws = s3Client();
    expect(s3Client()).toBe(aws);
    expect(aws.config.forcePathStyle).toBe(false);
    expect(await aws.config.region()).toBe("eu-west-1");

    process.env.AWS_ENDPOINT_URL_S3 = "http://127.0.0.1:4568";
    const local = s3Client();
    expect(local).not.toBe(aws); // a new endpoint: a new client
    expect(local.config.forcePathStyle).toBe(true); // s3rver needs path-style addressing
    expect(s3Client()).toBe(local);

    delete process.env.AWS_ENDPOINT_URL_S3;
    process.env.AWS_S3_FORCE_PATH_STYLE = "true";
    expect(s3Client().config.forcePathStyle).toBe(true);
    s3Client().destroy();
  });
});
