import "../../helpers/lambda-environment";
import { EXPIRY_WINDOW_MONTHS } from "../../../core/settings";
import { gzipSync } from "node:zlib";
import { handler } from "../../../lambdas/filter-expiring/handler";
import { readFilterExpiringSettings } from "../../../lambdas/filter-expiring/request";
import { todayUtc } from "../../../core/calendar-date";
import {
  extendedSampleLines,
  extendedSampleRecords,
  facility,
  facilityExpiringOn,
  jsonLines,
} from "../../fixtures/facilities";
import { BUCKET, failure, OTHER_BUCKET, startTestS3, type TestS3 } from "../../helpers/test-s3";
import { PROVENANCE_COLUMNS } from "../../../core/facility-schema";

let s3: TestS3;
beforeAll(async () => {
  s3 = await startTestS3();
});
afterAll(async () => {
  await s3.stop();
});
afterEach(() => {
  for (const name of ["MAX_LINE_BYTES", "MAX_DECOMPRESSED_BYTES", "EXPIRY_WINDOW_MONTHS", "MAX_REJECTED_SHARE"]) {
    delete process.env[name];
  }
  process.env.DATA_BUCKET = BUCKET;
});

const AS_OF = "2026-11-26";
const PROVENANCE_NAMES = new Set(PROVENANCE_COLUMNS.map((column) => column.name));

/** The staged records without their provenance: what was uploaded, in canonical form. */
async function stagedRecords(key: string): Promise<Record<string, unknown>[]> {
  return (await s3.jsonLines(key)).map((record) =>
    Object.fromEntries(Object.entries(record).filter(([name]) => !PROVENANCE_NAMES.has(name))),
  );
}

/** The staged object as canonical JSON Lines without provenance. */
async function stagedText(key: string): Promise<string> {
  return (await stagedRecords(key)).map((record) => `${JSON.stringify(record)}\n`).join("");
}

/** Uploads `body` under raw/<name> and runs the handler on it. */
async function ingest(name: string, body: string | Uint8Array, event: Record<string, unknown> = {}) {
  await s3.put(`raw/${name}`, body);
  return handler({ bucket: BUCKET, key: `raw/${name}`, asOf: AS_OF, ...event });
}

// As of 2026-11-26 with a 6-month window (to 2027-05-26), the extended sample has four expiring
// facilities (TX-0001 with two accreditations, AZ-0005, WA-0008, MA-0009) and two whose only
// accreditations expired (CA-0002, GA-0010); IL-0007 has one expired and one current.
const SAMPLE_RESULT_COUNTS = {
  records: 10,
  valid: 10,
  repaired: 0,
  warnings: 0,
  rejected: 0,
  rejectedExpiring: 0,
  rejectedExpiringRecords: [],
  reasonCounts: {},
  repairCounts: {},
  warningCounts: {},
  expiring: 4,
  expired: 2,
  unknownFields: 0,
};

describe("filter-expiring on the extended sample", () => {
  test("JSON Lines: staged records are canonical, expiring lists only the accreditations in the window", async () => {
    const result = await ingest("sample/extended.json", jsonLines(extendedSampleLines()));
    const etag = (await s3.head("raw/sample/extended.json")).etag;
    const name = `sample/extended.json/etag=${etag}.jsonl`;

    expect(result).toEqual({
      source: "raw/sample/extended.json",
      version: `etag:${etag}`,
      eventTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/),
      asOf: AS_OF,
      windowMonths: 6,
      ...SAMPLE_RESULT_COUNTS,
      stagedObject: `s3://${BUCKET}/staging/facilities/${name}`,
      outputs: {
        staging: `staging/facilities/${name}`,
        rejected: `rejected/${name}`,
        quality: `quality/${name}`,
        expiring: `transformed/expiring_facilities/${name}`,
      },
    });
    expect(await stagedText(result.outputs.staging)).toBe(jsonLines(extendedSampleRecords()));
    expect(await s3.text(result.outputs.quality)).toBe("");
    expect(await s3.text(result.outputs.rejected)).toBe("");
    const expiring = await s3.jsonLines(result.outputs.expiring);
    expect(expiring.map((line) => line.facility_id)).toEqual([
      "FAC-TX-0001",
      "FAC-AZ-0005",
      "FAC-WA-0008",
      "FAC-MA-0009",
    ]);
    expect(expiring[0]).toEqual({
      facility_id: "FAC-TX-0001",
      facility_name: "Lone Star Regional Medical Center",
      state: "TX",
      accreditations: [
        {
          accreditation_body: "The Joint Commission",
          accreditation_id: "TJC-448812",
          valid_until: "2027-03-31",
          days_until_expiry: 125,
        },
        {
          accreditation_body: "College of American Pathologists",
          accreditation_id: "CAP-7720145",
          valid_until: "2026-12-15",
          days_until_expiry: 19,
        },
      ],
    });
    expect(expiring[1].accreditations).toEqual([expect.objectContaining({ valid_until: "2027-01-31" })]); // not 2027-06-30
  });

  test("a pretty-printed JSON array gives the same outputs", async () => {
    const result = await ingest("sample/array.json", JSON.stringify(extendedSampleRecords(), null, 2));
    expect(result).toMatchObject(SAMPLE_RESULT_COUNTS);
    expect(await stagedText(result.outputs.staging)).toBe(jsonLines(extendedSampleRecords()));
  });

  test("gzip is detected by its magic bytes, whatever the name", async () => {
    const zipped = gzipSync(jsonLines(extendedSampleLines()));
    const named = await ingest("sample/zipped.jsonl.gz", zipped);
    expect(named).toMatchObject({
      ...SAMPLE_RESULT_COUNTS,
      outputs: { staging: expect.stringMatching(/^staging\/facilities\/sample\/zipped\.jsonl\.gz\/etag=/) },
    });
    const unnamed = await ingest("sample/not-obviously-zipped.json", zipped);
    expect(unnamed).toMatchObject(SAMPLE_RESULT_COUNTS);
    expect(await stagedText(unnamed.outputs.staging)).toBe(jsonLines(extendedSampleRecords()));
  });

  test("a BOM, CRLF line ends and blank lines are accepted; line numbers count the blank lines", async () => {
    const lines = extendedSampleLines();
    const body = `\uFEFF${lines.slice(0, 5).join("\r\n")}\r\n\r\n   \r\n${lines.slice(5).join("\r\n")}\r\n{"facility_id": "BAD"}\r\n\r\n`;
    const result = await ingest("sample/windows.json", body);
    expect(result).toMatchObject({ records: 11, valid: 10, rejected: 1, expiring: 4 });
    const [rejected] = await s3.jsonLines(result.outputs.rejected);
    expect(rejected).toMatchObject({ line: 13, facility_id: "BAD", text: '{"facility_id": "BAD"}' });
    expect(await stagedText(result.outputs.staging)).toBe(jsonLines(extendedSampleRecords()));
  });

  test("the same event twice rewrites the same objects", async () => {
    const first = await ingest("sample/replayed.json", jsonLines(extendedSampleLines()));
    const second = await handler({ bucket: BUCKET, key: "raw/sample/replayed.json", asOf: AS_OF });
    expect(second).toEqual(first);
    expect(await s3.keys("staging/facilities/sample/replayed")).toEqual([first.outputs.staging]);
  });
});

describe("filter-expiring on messy uploads", () => {
  // These sources are mostly bad records on purpose: the threshold has its own tests below.
  beforeEach(() => {
    process.env.MAX_REJECTED_SHARE = "1";
  });

  test("an empty object succeeds with every count 0 and empty outputs", async () => {
    for (const [name, body] of [
      ["empty.json", ""],
      ["blank.json", " \r\n\n\t\n"],
      ["empty-array.json", "[ ]"],
      ["empty.json.gz", gzipSync("")],
    ] as const) {
      const result = await ingest(`messy/${name}`, body);
      expect(result).toMatchObject({ records: 0, valid: 0, rejected: 0, expiring: 0, expired: 0, unknownFields: 0 });
      expect(await stagedText(result.outputs.staging)).toBe("");
      expect(await s3.text(result.outputs.rejected)).toBe("");
      expect(await s3.text(result.outputs.expiring)).toBe("");
    }
  });

  test("each kind of invalid record is rejected with its line, every reason and the original text", async () => {
    const records = [
      facility({ facility_id: "GOOD-1" }), // 1
      '{"facility_id": "TRUNCATED", "facility_name": ', // 2: not JSON
      '["an", "array"]', // 3: not an object
      JSON.stringify(facility({ facility_id: "" })), // 4
      JSON.stringify(
        facility({ facility_id: "BAD-STATE", location: { address: "1 A St", city: "X", state: "Texas", zip: "1" } }),
      ), // 5
      JSON.stringify(facility({ facility_id: "BAD-COUNT", employee_count: -5 })), // 6
      JSON.stringify(facility({ facility_id: "BAD-SERVICES", services: ["ok", 3] })), // 7
      JSON.stringify(facility({ facility_id: "BAD-LABS", labs: [{ lab_name: "L", certifications: "CLIA" }] })), // 8
      JSON.stringify(facilityExpiringOn("BAD-DATE", "2027-01-01", "2026-02-30")), // 9
      JSON.stringify(facilityExpiringOn("US-DATE", "12/31/2026")), // 10
      JSON.stringify(facility({ facility_id: "MANY", facility_name: 7, employee_count: "12", accreditations: null })), // 11
      facility({
        facility_id: "GOOD-2",
        extra: 1,
        location: { address: "1", city: "2", state: "PR", zip: "3", country: "US" },
      }), // 12
    ];
    const result = await ingest("messy/invalid.jsonl", jsonLines(records));

    expect(result).toMatchObject({ records: 12, valid: 2, rejected: 10, unknownFields: 2 });
    const rejected = await s3.jsonLines(result.outputs.rejected);
    const byLine = Object.fromEntries(rejected.map((line) => [line.line, line]));
    const reasons = (line: number) =>
      (byLine[line].reasons as { field: string; message: string }[]).map((r) => `${r.field}: ${r.message}`);

    expect(Object.keys(byLine).map(Number)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(reasons(2)).toEqual([expect.stringMatching(/^\(record\): not valid JSON: /)]);
    expect(byLine[2]).toMatchObject({ facility_id: null, text: records[1] });
    expect(reasons(3)).toEqual(['(record): expected a JSON object, received ["an","array"]']);
    expect(reasons(4)).toEqual(["facility_id: must not be empty"]);
    expect(reasons(5)).toEqual([
      'location.state: expected a two-letter US state or territory code such as "TX", received "Texas"',
    ]);
    expect(byLine[5]).toMatchObject({ facility_id: "BAD-STATE", text: records[4] });
    expect(reasons(6)).toEqual(["employee_count: must not be negative, received -5"]);
    expect(reasons(7)).toEqual(["services[1]: expected a string, received 3"]);
    expect(reasons(8)).toEqual(['labs[0].certifications: expected an array, received "CLIA"']);
    expect(reasons(9)).toEqual([
      'accreditations[1].valid_until: expected a calendar date written YYYY-MM-DD, received "2026-02-30"',
    ]);
    expect(reasons(10)).toEqual([
      'accreditations[0].valid_until: expected a calendar date written YYYY-MM-DD, received "12/31/2026"',
    ]);
    // employee_count "12" is repaired, not a reason.
    expect(reasons(11)).toEqual([
      "facility_name: expected a string, received 7",
      "accreditations: expected an array, received null",
    ]);
    // The valid records are staged without their unknown fields.
    expect((await stagedRecords(result.outputs.staging)).map((record) => Object.keys(record))).toEqual([
      ["facility_id", "facility_name", "location", "employee_count", "services", "labs", "accreditations"],
      ["facility_id", "facility_name", "location", "employee_count", "services", "labs", "accreditations"],
    ]);
    expect((await stagedRecords(result.outputs.staging))[1].location).toEqual({
      address: "1",
      city: "2",
      state: "PR",
      zip: "3",
    });
  });

  test("invalid elements of a JSON array are reported with the line they start on", async () => {
    const body = `[\n  ${JSON.stringify(facility({ facility_id: "A" }))},\n\n  ${JSON.stringify(facility({ facility_id: "B", employee_count: 1.5 }))},\n  "text"\n]`;
    const result = await ingest("messy/array.json", body);
    expect(result).toMatchObject({ records: 3, valid: 1, rejected: 2 });
    expect(
      (await s3.jsonLines(result.outputs.rejected)).map(({ line, facility_id }) => ({ line, facility_id })),
    ).toEqual([
      { line: 4, facility_id: "B" },
      { line: 5, facility_id: null },
    ]);
  });

  test("a repeated facility_id: the later record wins, the earlier goes to rejected", async () => {
    const first = facilityExpiringOn("FAC-DUP", "2026-12-01");
    const other = facility({ facility_id: "FAC-OTHER" });
    const later = facilityExpiringOn("FAC-DUP", "2029-01-01");
    const result = await ingest("messy/duplicates.jsonl", jsonLines([first, other, later]));

    expect(result).toMatchObject({ records: 3, valid: 2, rejected: 1, expiring: 1 }); // FAC-OTHER; FAC-DUP's winner is not expiring
    expect(await stagedRecords(result.outputs.staging)).toEqual([other, later]);
    expect(await s3.jsonLines(result.outputs.rejected)).toEqual([
      {
        line: 1,
        facility_id: "FAC-DUP",
        reasons: [{ field: "facility_id", message: "superseded by line 3" }],
        text: JSON.stringify(first),
      },
    ]);
    expect((await s3.jsonLines(result.outputs.expiring)).map((line) => line.facility_id)).toEqual(["FAC-OTHER"]);
  });

  test("a line longer than MAX_LINE_BYTES is rejected without being parsed", async () => {
    process.env.MAX_LINE_BYTES = "4096";
    const long = JSON.stringify(facility({ facility_id: "LONG", facility_name: "x".repeat(5000) }));
    const result = await ingest("messy/long-line.jsonl", jsonLines([facility({ facility_id: "SHORT" }), long]));
    expect(result).toMatchObject({ records: 2, valid: 1, rejected: 1 });
    const [rejected] = await s3.jsonLines(result.outputs.rejected);
    expect(rejected).toEqual({
      line: 2,
      facility_id: null,
      reasons: [
        {
          field: "(record)",
          message: `record is ${long.length} bytes, more than MAX_LINE_BYTES (4096); not parsed. The text holds its first 256 bytes`,
        },
      ],
      text: long.slice(0, 256),
    });
  });

  test("a line that is not UTF-8 is rejected; the others are kept", async () => {
    const bad = Buffer.concat([
      Buffer.from('{"facility_id": "LATIN1", "facility_name": "Caf'),
      Buffer.from([0xe9]),
      Buffer.from('"}'),
    ]);
    const body = Buffer.concat([Buffer.from(jsonLines([facility({ facility_id: "UTF8-É" })])), bad, Buffer.from("\n")]);
    const result = await ingest("messy/latin1.jsonl", body);
    expect(result).toMatchObject({ records: 2, valid: 1, rejected: 1 });
    const [rejected] = await s3.jsonLines(result.outputs.rejected);
    expect(rejected).toMatchObject({
      line: 2,
      reasons: [
        {
          field: "(record)",
          message:
            'not valid UTF-8 (the text shows each undecodable byte as U+FFFD); looks like Windows-1252 ("Café"): export the file as UTF-8',
        },
      ],
      text: '{"facility_id": "LATIN1", "facility_name": "Caf\uFFFD"}',
    });
    expect((await stagedRecords(result.outputs.staging))[0].facility_id).toBe("UTF8-É");
  });

  test("records but none valid: the rejected output is written, then NoValidRecordsError", async () => {
    const error = await failure(
      ingest("messy/all-bad.jsonl", jsonLines([facility({ employee_count: -1 }), "nonsense"])),
    );
    expect(error.name).toBe("NoValidRecordsError");
    const name = `messy/all-bad.jsonl/etag=${(await s3.head("raw/messy/all-bad.jsonl")).etag}.jsonl`;
    expect(error.message).toBe(
      `raw/messy/all-bad.jsonl: none of its 2 records is valid; see s3://facility-data-test/rejected/${name} ` +
        "(first: line 1, employee_count: must not be negative, received -1). " +
        "1 rejected record shows an accreditation expiring within the window: FAC-TX-9001 (line 1, 2027-01-15)",
    );
    expect((await s3.jsonLines(`rejected/${name}`)).map((line) => line.line)).toEqual([1, 2]);
    expect(await s3.text(`staging/facilities/${name}`)).toBe(""); // every version has all four outputs
  });

  test("a malformed JSON array fails with its line, and nothing is written", async () => {
    const body = `[\n${JSON.stringify(facility())}\n${JSON.stringify(facility())}\n]`;
    const error = await failure(ingest("messy/no-comma.json", body));
    expect(error.name).toBe("MalformedJsonArrayError");
    expect(error.message).toContain("raw/messy/no-comma.json line 3: not a valid JSON array");
    expect(await s3.keys("staging/facilities/messy/no-comma")).toEqual([]);
    expect(await s3.keys("rejected/messy/no-comma")).toEqual([]);
  });
});

describe("filter-expiring repairs what is safe and fails loudly past MAX_REJECTED_SHARE", () => {
  test("a repaired record is kept, with its repairs and warnings in quality/ and counted", async () => {
    const result = await ingest(
      "quality/export.jsonl",
      jsonLines([
        facility({ facility_id: "Q-1", employee_count: "310" }),
        facility({ facility_id: "Q-2", location: { address: null, city: "Burlington", state: "vt", zip: 5401 } }),
        facility({ facility_id: "Q-3" }),
      ]),
    );
    expect(result).toMatchObject({
      records: 3,
      valid: 3,
      rejected: 0,
      repaired: 2,
      warnings: 1,
      repairCounts: {
        "employee_count: integer-text": 1,
        "location.state: state-code": 1,
        "location.zip: zip-number": 1,
      },
      warningCounts: { "location.address: is null": 1 },
    });
    expect(await s3.jsonLines(result.outputs.quality)).toEqual([
      {
        line: 1,
        facility_id: "Q-1",
        repairs: [{ field: "employee_count", repairs: ["integer-text"], received: "310", kept: 310 }],
        warnings: [],
      },
      {
        line: 2,
        facility_id: "Q-2",
        repairs: [
          { field: "location.state", repairs: ["state-code"], received: "vt", kept: "VT" },
          { field: "location.zip", repairs: ["zip-number"], received: 5401, kept: "05401" },
        ],
        warnings: [{ field: "location.address", message: "is null" }],
      },
    ]);
    const staged = await stagedRecords(result.outputs.staging);
    expect(staged.map((record) => [record.employee_count, record.location])).toEqual([
      [310, facility().location],
      [facility().employee_count, { address: null, city: "Burlington", state: "VT", zip: "05401" }],
      [facility().employee_count, facility().location],
    ]);
  });

  test("past MAX_REJECTED_SHARE: RejectedShareExceededError with the share and the top reasons; rejected and quality written, nothing staged", async () => {
    process.env.MAX_REJECTED_SHARE = "0.25";
    const lines = [
      ...Array.from({ length: 6 }, (_, i) => JSON.stringify(facility({ facility_id: `OK-${i}` }))),
      JSON.stringify(facility({ facility_id: "BAD-1", employee_count: -1 })),
      JSON.stringify(facility({ facility_id: "BAD-2", employee_count: -2 })),
      "not json",
      JSON.stringify(facility({ facility_id: "OK-9", employee_count: "9" })),
    ];
    const error = await failure(ingest("quality/broken.jsonl", jsonLines(lines)));
    expect(error.name).toBe("RejectedShareExceededError");
    expect(error.message).toContain(
      "raw/quality/broken.jsonl: 3 of its 10 records (30%) are invalid, more than MAX_REJECTED_SHARE (25%): " +
        "nothing was applied to the current state. Most common reasons: employee_count: must not be negative (2); " +
        "(record): not valid JSON (1).",
    );
    const name = `quality/broken.jsonl/etag=${(await s3.head("raw/quality/broken.jsonl")).etag}.jsonl`;
    expect(await s3.jsonLines(`rejected/${name}`)).toHaveLength(3);
    expect(await s3.jsonLines(`quality/${name}`)).toHaveLength(1);
    expect(await s3.keys(`staging/facilities/${name}`)).toEqual([]);
    expect(await s3.keys(`transformed/expiring_facilities/${name}`)).toEqual([]);
  });

  test("at MAX_REJECTED_SHARE exactly the source passes; superseded repeats do not count against it", async () => {
    process.env.MAX_REJECTED_SHARE = "0.25";
    const result = await ingest(
      "quality/at-threshold.jsonl",
      jsonLines([
        facility({ facility_id: "A" }),
        facility({ facility_id: "A" }),
        facility({ facility_id: "A" }),
        "not json",
      ]),
    );
    expect(result).toMatchObject({
      records: 4,
      valid: 1,
      rejected: 3,
      reasonCounts: { "(record): not valid JSON": 1 },
    });
  });

  test("MAX_REJECTED_SHARE defaults to 0.1 and must be a number from 0 to 1", () => {
    expect(readFilterExpiringSettings({ DATA_BUCKET: "b" }).maxRejectedShare).toBe(0.1);
    expect(readFilterExpiringSettings({ DATA_BUCKET: "b", MAX_REJECTED_SHARE: "0.02" }).maxRejectedShare).toBe(0.02);
    for (const bad of ["10%", "1.5", "-0.1", "a"]) {
      expect(() => readFilterExpiringSettings({ DATA_BUCKET: "b", MAX_REJECTED_SHARE: bad })).toThrow(
        `Environment variable MAX_REJECTED_SHARE must be a number from 0 to 1, such as 0.1 (received "${bad}")`,
      );
    }
  });

  test("a rejected record that still shows an accreditation inside the window is marked and counted", async () => {
    process.env.MAX_REJECTED_SHARE = "1";
    const soon = { accreditation_body: "COLA", accreditation_id: "COLA-9", valid_until: "2026-12-05" };
    const result = await ingest(
      "quality/rejected-expiring.jsonl",
      jsonLines([
        facility({ facility_id: "NWH-0011", employee_count: "many", accreditations: [soon] }),
        facility({
          facility_id: "LATER",
          employee_count: -1,
          accreditations: [{ accreditation_body: "COLA", accreditation_id: "COLA-8", valid_until: "2029-01-01" }],
        }),
        facility({ facility_id: "", accreditations: [soon] }),
        facility({ facility_id: "OK" }),
      ]),
    );
    expect(result).toMatchObject({
      rejected: 3,
      rejectedExpiring: 1,
      rejectedExpiringRecords: [
        {
          line: 1,
          facility_id: "NWH-0011",
          accreditation_id: "COLA-9",
          valid_until: "2026-12-05",
          days_until_expiry: 9,
        },
      ],
    });
    const rejected = await s3.jsonLines(result.outputs.rejected);
    expect(result.valid).toBe(1);
    expect(rejected.map((line) => line.expiring_accreditations)).toEqual([
      [{ accreditation_id: "COLA-9", valid_until: "2026-12-05", days_until_expiry: 9 }],
      undefined,
      undefined,
    ]);
  });
});

describe("filter-expiring limits on decompressed size", () => {
  const records = (count: number) =>
    jsonLines(Array.from({ length: count }, (_, i) => facility({ facility_id: `FAC-${String(i).padStart(6, "0")}` })));

  test("gzip beyond MAX_DECOMPRESSED_BYTES fails and writes nothing", async () => {
    process.env.MAX_DECOMPRESSED_BYTES = "100000";
    const error = await failure(ingest("limits/bomb.jsonl.gz", gzipSync(records(2000)))); // ~600 KB decompressed
    expect(error.name).toBe("DecompressedSizeExceededError");
    expect(error.message).toBe(
      "raw/limits/bomb.jsonl.gz holds more than 100000 bytes once decompressed, the limit set by MAX_DECOMPRESSED_BYTES; nothing was written",
    );
    for (const prefix of [
      "staging/facilities/limits/bomb",
      "rejected/limits/bomb",
      "transformed/expiring_facilities/limits/bomb",
    ]) {
      expect(await s3.keys(prefix)).toEqual([]);
    }
  });

  test("a plain object larger than the limit is refused before it is read", async () => {
    process.env.MAX_DECOMPRESSED_BYTES = "1000";
    const error = await failure(ingest("limits/large.jsonl", records(10)));
    expect(error.name).toBe("DecompressedSizeExceededError");
    expect(error.message).toMatch(/^raw\/limits\/large.jsonl is \d+ bytes, more than MAX_DECOMPRESSED_BYTES \(1000\)/);
  });

  test("an upload aborted after its first parts leaves no object", async () => {
    // About 31 MB of records in about 1 MB of gzip: when the limit stops it at 20 MiB, the
    // staged upload is multipart (5 MiB parts) with parts already sent.
    process.env.MAX_DECOMPRESSED_BYTES = String(20 * 1024 * 1024);
    const error = await failure(ingest("limits/multipart.jsonl.gz", gzipSync(records(80_000))));
    expect(error.name).toBe("DecompressedSizeExceededError");
    expect(await s3.keys("staging/facilities/limits/multipart")).toEqual([]);
  }, 60_000);

  test("a large source streams through a multipart upload, whole", async () => {
    const body = records(40_000); // about 16 MB: four 5 MiB parts
    const result = await ingest("limits/large-ok.jsonl", body);
    expect(result).toMatchObject({ records: 40_000, valid: 40_000 });
    expect((await stagedText(result.outputs.staging)) === body).toBe(true);
  }, 60_000);
});

describe("filter-expiring window edges", () => {
  // 2026-08-31 + 6 months = 2027-02-28 (clamped like Athena's date_add).
  const edges = [
    facilityExpiringOn("AS-OF-DAY", "2026-08-31"),
    facilityExpiringOn("LAST-DAY", "2027-02-28"),
    facilityExpiringOn("DAY-AFTER", "2027-03-01"),
    facilityExpiringOn("YESTERDAY", "2026-08-30"),
    facilityExpiringOn("NONE"),
  ];

  test("as-of day and last day are in, the day after is not, yesterday is expired", async () => {
    const result = await ingest("window/edges.jsonl", jsonLines(edges), { asOf: "2026-08-31", windowMonths: 6 });
    expect(result).toMatchObject({ asOf: "2026-08-31", windowMonths: 6, valid: 5, expiring: 2, expired: 1 });
    const expiring = await s3.jsonLines(result.outputs.expiring);
    expect(
      expiring.map((line) => [
        line.facility_id,
        (line.accreditations as { days_until_expiry: number }[])[0].days_until_expiry,
      ]),
    ).toEqual([
      ["AS-OF-DAY", 0],
      ["LAST-DAY", 181],
    ]);
  });

  test("asOf may be Step Functions' execution start time; its UTC date is used", async () => {
    const late = await ingest("window/timestamp.jsonl", jsonLines(edges), { asOf: "2026-08-31T23:59:59.999Z" });
    expect(late).toMatchObject({ asOf: "2026-08-31", expiring: 2, expired: 1 });
    // 22:00 on the 31st in New York is 03:00 UTC on 1 September: 31 August has expired and the
    // window now ends on 1 March.
    const offset = await handler({
      bucket: BUCKET,
      key: "raw/window/timestamp.jsonl",
      asOf: "2026-08-31T22:00:00-05:00",
    });
    expect(offset).toMatchObject({ asOf: "2026-09-01", expiring: 2, expired: 2 });
    const expiring = await s3.jsonLines(offset.outputs.expiring);
    expect(expiring.map((line) => line.facility_id)).toEqual(["LAST-DAY", "DAY-AFTER"]);
  });

  test("the window comes from the event, else the one default (6); never from the environment", async () => {
    process.env.EXPIRY_WINDOW_MONTHS = "7";
    await s3.put("raw/window/env.jsonl", jsonLines(edges));
    const fromDefault = await handler({ bucket: BUCKET, key: "raw/window/env.jsonl", asOf: "2026-08-31" });
    expect(fromDefault).toMatchObject({ windowMonths: EXPIRY_WINDOW_MONTHS.default });
    const fromEvent = await handler({
      bucket: BUCKET,
      key: "raw/window/env.jsonl",
      asOf: "2026-08-31",
      windowMonths: 1,
    });
    expect(fromEvent).toMatchObject({ windowMonths: 1, expiring: 1 });
  });

  test("asOf defaults to today (UTC)", async () => {
    await s3.put("raw/window/today.jsonl", jsonLines(edges));
    const before = todayUtc();
    const result = await handler({ bucket: BUCKET, key: "raw/window/today.jsonl" });
    expect([before, todayUtc()]).toContain(result.asOf);
  });
});

describe("filter-expiring refuses what it must not touch", () => {
  test("an event naming another bucket", async () => {
    await s3.put("raw/elsewhere.json", jsonLines([facility()]), OTHER_BUCKET);
    const error = await failure(handler({ bucket: OTHER_BUCKET, key: "raw/elsewhere.json" }));
    expect(error.name).toBe("BucketNotAllowedError");
    expect(error.message).toBe(
      `filter-expiring only reads the data bucket "${BUCKET}" (DATA_BUCKET); the event names "${OTHER_BUCKET}"`,
    );
  });

  test.each(["curated/facilities/x.jsonl", "rejected/x.jsonl", "raw/", "raw/../curated/x.json"])(
    "a key outside raw/: %s",
    async (key) => {
      const error = await failure(handler({ bucket: BUCKET, key }));
      expect(error.name).toBe("PrefixNotAllowedError");
      expect(error.message).toContain(JSON.stringify(key));
    },
  );

  test("an event of the wrong shape, with every problem listed", async () => {
    const error = await failure(handler({ bucket: 7, asOf: "12/31/2026", windowMonths: 0 }));
    expect(error.name).toBe("InvalidEventError");
    expect(error.message).toBe(
      [
        "Invalid filter-expiring event:",
        "  - bucket: expected a bucket name (received 7)",
        '  - key: expected an object key under "raw/" (received nothing)',
        '  - asOf: expected a date YYYY-MM-DD or an ISO timestamp such as 2026-11-26T14:24:24.123Z (received "12/31/2026")',
        "  - windowMonths: expected a whole number from 1 to 60 (received 0)",
      ].join("\n"),
    );
    expect((await failure(handler("raw/x.json"))).name).toBe("InvalidEventError");
  });

  test("a missing object", async () => {
    const error = await failure(handler({ bucket: BUCKET, key: "raw/never-uploaded.json" }));
    expect(error.name).toBe("SourceNotFoundError");
    expect(error.message).toContain("s3://facility-data-test/raw/never-uploaded.json does not exist");
  });

  test("a function without DATA_BUCKET", async () => {
    delete process.env.DATA_BUCKET;
    const error = await failure(handler({ bucket: BUCKET, key: "raw/x.json" }));
    expect(error.name).toBe("EnvironmentError");
    expect(error.message).toContain("DATA_BUCKET");
  });
});

describe("filter-expiring staging: one object per source version, with provenance", () => {
  test("the event's time and sequencer are each staged record's provenance, normalized to a fixed width", async () => {
    await s3.put(
      "raw/provenance/feed.jsonl",
      jsonLines([facility({ facility_id: "P-1" }), facility({ facility_id: "P-2" })]),
    );
    const { etag } = await s3.head("raw/provenance/feed.jsonl");
    const result = await handler({
      bucket: BUCKET,
      key: "raw/provenance/feed.jsonl",
      asOf: AS_OF,
      object: { key: "raw/provenance/feed.jsonl", etag, sequencer: "0066F1a2B3" },
      eventTime: "2026-11-26T14:24:24Z",
    });
    expect(result).toMatchObject({ version: `etag:${etag}`, eventTime: "2026-11-26T14:24:24.000Z" });
    const staged = await s3.jsonLines(result.outputs.staging);
    expect(
      staged.map(({ facility_id, source_key, source_version, event_time, sequencer, source_line, retired }) => ({
        facility_id,
        source_key,
        source_version,
        event_time,
        sequencer,
        source_line,
        retired,
      })),
    ).toEqual(
      ["P-1", "P-2"].map((id, i) => ({
        facility_id: id,
        source_key: "raw/provenance/feed.jsonl",
        source_version: `etag:${etag}`,
        event_time: "2026-11-26T14:24:24.000Z",
        sequencer: "00000000000000000000000066F1A2B3",
        source_line: i + 1,
        retired: false,
      })),
    );
  });

  test("an event for an earlier version (its ETag no longer matches) fails and writes nothing", async () => {
    await s3.put("raw/provenance/replaced.jsonl", jsonLines([facility({ facility_id: "OLD" })]));
    const { etag } = await s3.head("raw/provenance/replaced.jsonl");
    await s3.put("raw/provenance/replaced.jsonl", jsonLines([facility({ facility_id: "NEW" })]));
    const error = await failure(
      handler({ bucket: BUCKET, key: "raw/provenance/replaced.jsonl", asOf: AS_OF, object: { etag } }),
    );
    expect(error.name).toBe("SourceChangedError");
    expect(await s3.keys("staging/facilities/provenance/replaced.jsonl/")).toEqual([]);
  });

  test("raw/coll.json and raw/coll.jsonl, and two versions of one key, keep their own outputs", async () => {
    const first = await ingest("coll.json", jsonLines([facility({ facility_id: "JSON-1" })]));
    const second = await ingest("coll.jsonl", jsonLines([facility({ facility_id: "JSONL-1" })]));
    const third = await ingest("coll.json", jsonLines([facility({ facility_id: "JSON-2" })]));
    expect(new Set([first, second, third].map((result) => result.outputs.staging)).size).toBe(3);
    expect((await s3.jsonLines(first.outputs.staging)).map((record) => record.facility_id)).toEqual(["JSON-1"]);
    expect((await s3.jsonLines(second.outputs.staging)).map((record) => record.facility_id)).toEqual(["JSONL-1"]);
    expect((await s3.jsonLines(third.outputs.staging)).map((record) => record.facility_id)).toEqual(["JSON-2"]);
  });

  test("a malformed object or event time is an InvalidEventError listing each problem", async () => {
    const error = await failure(
      handler({
        bucket: BUCKET,
        key: "raw/x.json",
        object: { etag: 7, "version-id": 3, sequencer: "not hex" },
        eventTime: "yesterday",
      }),
    );
    expect(error.name).toBe("InvalidEventError");
    for (const field of ["object.version-id", "object.etag", "object.sequencer", "eventTime"]) {
      expect(error.message).toContain(`  - ${field}: expected`);
    }
  });
});
