import { createHash } from "node:crypto";
import fc from "fast-check";
import { MAX_EXECUTION_NAME_LENGTH, replayExecutionName } from "../../core/replay-event";

describe("replayExecutionName", () => {
  const key = fc.string({ minLength: 1, maxLength: 1024, unit: "grapheme" }).map((rest) => `raw/${rest}`);
  const version = fc.option(fc.string({ minLength: 1, maxLength: 64 }), { nil: undefined });
  const label = fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/), { nil: undefined });

  test("is always a valid Step Functions execution name: 1 to 80 of [A-Za-z0-9_-]", () => {
    fc.assert(
      fc.property(key, version, label, (k, v, l) => {
        const name = replayExecutionName({ key: k, etag: "abc", versionId: v }, l);
        expect(name.length).toBeLessThanOrEqual(MAX_EXECUTION_NAME_LENGTH);
        expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
      }),
    );
  });

  test("is a function of key, version and label: equal inputs give equal names, any difference another name", () => {
    fc.assert(
      fc.property(key, version, version, label, (k, v1, v2, l) => {
        const a = replayExecutionName({ key: k, etag: "e", versionId: v1 }, l);
        const b = replayExecutionName({ key: k, etag: "e", versionId: v2 }, l);
        expect(a === b).toBe(v1 === v2);
      }),
    );
  });

  test("keeps the end of a long key, where the file name is", () => {
    const name = replayExecutionName({ key: `raw/${"partition=x/".repeat(20)}facilities-2026-11.jsonl.gz`, etag: "e" });
    expect(name).toHaveLength(MAX_EXECUTION_NAME_LENGTH);
    expect(name).toMatch(/_facilities-2026-11_jsonl_gz-[0-9a-f]{16}$/);
  });

  test("uses the ETag when the object has no version id", () => {
    const unversioned = (etag: string) => replayExecutionName({ key: "raw/a.json", etag });
    expect(unversioned("1")).not.toBe(unversioned("2"));
    expect(replayExecutionName({ key: "raw/a.json", etag: "1", versionId: "v" })).toBe(
      replayExecutionName({ key: "raw/a.json", etag: "2", versionId: "v" }),
    );
  });

  test("pinned settings give another name; no settings the same name as before", () => {
    const object = { key: "raw/a.json", etag: "e", versionId: "v" };
    // Before settings existed: the hash covered key, version and label only.
    const hash = createHash("sha256").update("raw/a.json\u0000version:v\u0000fix-1").digest("hex").slice(0, 16);
    expect(replayExecutionName(object, "fix-1")).toBe(`fix-1-a_json-${hash}`);
    expect(replayExecutionName(object, "fix-1", {})).toBe(`fix-1-a_json-${hash}`);
    expect(replayExecutionName(object, "fix-1", { asOf: undefined, windowMonths: undefined })).toBe(
      `fix-1-a_json-${hash}`,
    );

    const names = [
      replayExecutionName(object, "fix-1"),
      replayExecutionName(object, "fix-1", { asOf: "2026-08-31" }),
      replayExecutionName(object, "fix-1", { asOf: "2026-09-01" }),
      replayExecutionName(object, "fix-1", { windowMonths: 6 }),
      replayExecutionName(object, "fix-1", { asOf: "2026-08-31", windowMonths: 6 }),
    ];
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^fix-1-a_json-[0-9a-f]{16}$/);
    // The same settings give the same name, however they are written.
    expect(replayExecutionName(object, "fix-1", { windowMonths: 6, asOf: "2026-08-31" })).toBe(names[4]);
  });
});
