import fc from "fast-check";
import { FACILITY_COLUMNS } from "../../../core/facility-schema";
import {
  MAX_REPORTED_PROBLEMS,
  US_STATE_AND_TERRITORY_CODES,
  validateFacility,
  type ValidationProblem,
} from "../../../lambdas/filter-expiring/facility-validation";
import { dateOfDayNumber } from "../../../core/calendar-date";
import { extendedSampleLines, facility } from "../../fixtures/facilities";

function problemsOf(record: unknown): readonly ValidationProblem[] {
  const result = validateFacility(record);
  if (result.valid) throw new Error(`expected ${JSON.stringify(record)} to be invalid`);
  return result.problems;
}

describe("validateFacility", () => {
  test("reports at most MAX_REPORTED_PROBLEMS reasons per record, then how many more", () => {
    const problems = problemsOf(facility({ services: Array.from({ length: 500 }, (_, i) => i) }));
    expect(problems).toHaveLength(MAX_REPORTED_PROBLEMS + 1);
    expect(problems[MAX_REPORTED_PROBLEMS]).toEqual({
      field: "(record)",
      message: `and ${500 - MAX_REPORTED_PROBLEMS} more problems`,
    });
  });

  test("accepts every record of the extended sample, keeping them as they are", () => {
    for (const line of extendedSampleLines()) {
      const result = validateFacility(JSON.parse(line), line);
      expect(result).toMatchObject({ valid: true, unknownFields: [] });
      if (result.valid) expect(result.canonicalJson).toBe(JSON.stringify(JSON.parse(line)));
    }
  });

  test("accepts empty arrays and a zero employee count", () => {
    expect(validateFacility(facility({ services: [], labs: [], accreditations: [], employee_count: 0 })).valid).toBe(
      true,
    );
    expect(validateFacility(facility({ labs: [{ lab_name: "Lab", certifications: [] }] })).valid).toBe(true);
  });

  test.each(["TX", "DC", "PR", "GU", "VI", "AS", "MP", "UM"])("accepts the state or territory code %s", (state) => {
    const record = facility({ location: { address: "1 Main St", city: "X", state, zip: "00901" } });
    expect(validateFacility(record).valid).toBe(true);
  });

  const location = (changes: Record<string, unknown>) => ({
    location: { address: "1 Main St", city: "Austin", state: "TX", zip: "78701", ...changes },
  });
  const accreditation = (changes: Record<string, unknown>) => ({
    accreditations: [{ accreditation_body: "COLA", accreditation_id: "C-1", valid_until: "2027-01-15", ...changes }],
  });

  // One case per rule: [what, the record, the field path, a fragment of the message].
  test.each<[string, unknown, string, string]>([
    ["not an object", [1, 2], "(record)", "expected a JSON object, received [1,2]"],
    ["null", null, "(record)", "expected a JSON object, received null"],
    ["a missing facility_id", (({ facility_id: _, ...rest }) => rest)(facility()), "facility_id", "is required"],
    ["an empty facility_id", facility({ facility_id: "" }), "facility_id", "must not be empty"],
    ["a blank facility_id", facility({ facility_id: "   " }), "facility_id", "must not be empty"],
    ["a numeric facility_id", facility({ facility_id: 42 }), "facility_id", "expected a string, received 42"],
    ["an empty facility_name", facility({ facility_name: "" }), "facility_name", "must not be empty"],
    ["a null facility_name", facility({ facility_name: null }), "facility_name", "expected a string, received null"],
    ["a location that is a string", facility({ location: "Austin, TX" }), "location", "expected an object"],
    [
      "a missing location.city",
      facility({ location: { address: "a", state: "TX", zip: "1" } }),
      "location.city",
      "is required",
    ],
    [
      "a state name",
      facility(location({ state: "Texas" })),
      "location.state",
      'state or territory code such as "TX", received "Texas"',
    ],
    ["a foreign code", facility(location({ state: "ON" })), "location.state", 'received "ON"'],
    [
      "a negative employee_count",
      facility({ employee_count: -1 }),
      "employee_count",
      "must not be negative, received -1",
    ],
    ["a fractional employee_count", facility({ employee_count: 12.5 }), "employee_count", "expected a whole number"],
    ["an employee_count beyond int", facility({ employee_count: 2 ** 31 }), "employee_count", "32-bit integer"],
    ["services that are a string", facility({ services: "Cardiology" }), "services", "expected an array"],
    ["a numeric service", facility({ services: ["Cardiology", 7] }), "services[1]", "expected a string, received 7"],
    ["a lab without a name", facility({ labs: [{ certifications: [] }] }), "labs[0].lab_name", "is required"],
    [
      "certifications that are a string",
      facility({ labs: [{ lab_name: "L", certifications: "CLIA" }] }),
      "labs[0].certifications",
      "expected an array",
    ],
    ["accreditations that are an object", facility({ accreditations: {} }), "accreditations", "expected an array"],
    [
      "a missing accreditation_id",
      facility({ accreditations: [{ accreditation_body: "B", valid_until: "2027-01-01" }] }),
      "accreditations[0].accreditation_id",
      "is required",
    ],
    [
      "February 30th",
      facility(accreditation({ valid_until: "2026-02-30" })),
      "accreditations[0].valid_until",
      'calendar date written YYYY-MM-DD, received "2026-02-30"',
    ],
    [
      "a US-style date",
      facility(accreditation({ valid_until: "12/31/2026" })),
      "accreditations[0].valid_until",
      'received "12/31/2026"',
    ],
    [
      "a date-time in another zone (its date there is not the UTC date)",
      facility(accreditation({ valid_until: "2026-12-31T20:00:00-05:00" })),
      "accreditations[0].valid_until",
      'YYYY-MM-DD, received "2026-12-31T20:00:00-05:00"',
    ],
    [
      "a date-time with a time but no zone",
      facility(accreditation({ valid_until: "2026-12-31T08:00:00" })),
      "accreditations[0].valid_until",
      "YYYY-MM-DD",
    ],
    [
      "a six-digit numeric zip",
      facility(location({ zip: 787011 })),
      "location.zip",
      "expected a string, received 787011",
    ],
    ["a word for employee_count", facility({ employee_count: "many" }), "employee_count", 'received "many"'],
    ["a fractional employee_count as text", facility({ employee_count: "12.5" }), "employee_count", 'received "12.5"'],
    [
      "a state that is two letters once its spaces go, but no state",
      facility(location({ state: "o n" })),
      "location.state",
      'received "ON"',
    ],
    ["a null location", facility({ location: null }), "location", "expected an object, received null"],
    ["null accreditations", facility({ accreditations: null }), "accreditations", "expected an array, received null"],
    [
      "a numeric date",
      facility(accreditation({ valid_until: 20261231 })),
      "accreditations[0].valid_until",
      "expected a string",
    ],
  ])("rejects %s", (_what, record, field, message) => {
    const problems = problemsOf(record);
    expect(problems).toHaveLength(1);
    expect(problems[0].field).toBe(field);
    expect(problems[0].message).toContain(message);
  });

  test("reports every problem of a record, each with its path", () => {
    const record = facility({
      facility_id: "",
      location: { address: "1 Main St", city: "Austin", state: "Texas" },
      employee_count: -3,
      services: ["ok", null],
      accreditations: [
        { accreditation_body: "A", accreditation_id: "1", valid_until: "2027-01-01" },
        { accreditation_body: "B", accreditation_id: "2", valid_until: "2027-02-29" },
      ],
    });
    expect(problemsOf(record).map((problem) => problem.field)).toEqual([
      "facility_id",
      "location.state",
      "employee_count",
      "services[1]",
      "accreditations[1].valid_until",
    ]);
  });

  test("drops unknown fields at any depth, counts them and writes the canonical record", () => {
    const record = {
      notes: "top-level extra",
      ...facility(),
      location: { country: "US", address: "1 Main St", city: "Austin", state: "TX", zip: "78701" },
      labs: [{ lab_name: "Core Lab", certifications: ["CLIA"], director: "Dr. X" }],
    };
    const result = validateFacility(record, JSON.stringify(record));
    expect(result.valid).toBe(true);
    if (!result.valid) return;
    expect(result.unknownFields).toEqual(["notes", "location.country", "labs[].director"]);
    expect(result.canonicalJson).toBe(JSON.stringify(facility()));
    expect(Object.keys(result.facility)).toEqual(FACILITY_COLUMNS.map((column) => column.name));
  });

  test("puts fields back in column order", () => {
    const reversed = Object.fromEntries(Object.entries(facility()).reverse());
    const result = validateFacility(reversed, JSON.stringify(reversed));
    expect(result.valid && result.canonicalJson).toBe(JSON.stringify(facility()));
  });

  test("re-serializes a record whose text is not canonical", () => {
    const record = facility({ employee_count: 2000 });
    const variants = [
      JSON.stringify(record, null, 2),
      JSON.stringify(record).replace('"employee_count":2000', '"employee_count":2e3'),
      JSON.stringify(record).replace('"employee_count":2000', '"employee_count":2000.0'),
      JSON.stringify(record).replace('"Austin"', '"\\u0041ustin"'),
      JSON.stringify(record).replace('"facility_id":', '"facility_id":"DUP","facility_id":'),
      // 1e3 is one character shorter than 1000: a space elsewhere must not make the text pass as canonical.
      JSON.stringify(facility({ employee_count: 1000 })).replace('"employee_count":1000', '"employee_count":1e3 '),
    ];
    for (const text of variants) {
      const result = validateFacility(JSON.parse(text), text);
      expect(result.valid).toBe(true);
      if (result.valid) expect(result.canonicalJson).toBe(JSON.stringify(JSON.parse(text)));
      if (result.valid) expect(result.canonicalJson).not.toBe(text);
    }
  });

  describe("repairs: an unambiguous normalization, applied and recorded", () => {
    test.each<[string, Record<string, unknown>, string, unknown, unknown, string[]]>([
      ["a numeric string employee_count", { employee_count: "310" }, "employee_count", "310", 310, ["integer-text"]],
      ["a padded numeric string", { employee_count: " 42 " }, "employee_count", " 42 ", 42, ["integer-text"]],
      ["a lowercase state", location({ state: "vt" }), "location.state", "vt", "VT", ["state-code"]],
      ["a state with spaces", location({ state: " T X " }), "location.state", " T X ", "TX", ["trim", "state-code"]],
      ["a numeric ZIP", location({ zip: 2115 }), "location.zip", 2115, "02115", ["zip-number"]],
      ["a five-digit numeric ZIP", location({ zip: 78701 }), "location.zip", 78701, "78701", ["zip-number"]],
      [
        "a midnight UTC date-time",
        accreditation({ valid_until: "2027-01-31T00:00:00Z" }),
        "accreditations[0].valid_until",
        "2027-01-31T00:00:00Z",
        "2027-01-31",
        ["date-of-datetime"],
      ],
      [
        "a UTC date-time with a time",
        accreditation({ valid_until: "2027-01-31T18:30:00.000+00:00" }),
        "accreditations[0].valid_until",
        "2027-01-31T18:30:00.000+00:00",
        "2027-01-31",
        ["date-of-datetime"],
      ],
      [
        "a zero time without a zone",
        accreditation({ valid_until: "2027-01-31 00:00:00" }),
        "accreditations[0].valid_until",
        "2027-01-31 00:00:00",
        "2027-01-31",
        ["date-of-datetime"],
      ],
      ["a padded facility_id", { facility_id: " FAC-1\t" }, "facility_id", " FAC-1\t", "FAC-1", ["trim"]],
      [
        "a padded accreditation_id",
        accreditation({ accreditation_id: " C-1 " }),
        "accreditations[0].accreditation_id",
        " C-1 ",
        "C-1",
        ["trim"],
      ],
    ])("repairs %s", (_what, changes, field, received, kept, repairs) => {
      const result = validateFacility(facility(changes));
      expect(result).toMatchObject({ valid: true, repairs: [{ field, received, kept, repairs }], warnings: [] });
      if (!result.valid) return;
      const line = JSON.parse(result.canonicalJson);
      const path = field.replace(/\[(\d+)\]/g, ".$1").split(".");
      expect(path.reduce((value, key) => value[key], line)).toEqual(kept);
      expect(Object.keys(line)).toEqual(FACILITY_COLUMNS.map((column) => column.name));
    });

    test("free text (a name, an address, a service) is kept as written, surrounding whitespace and all", () => {
      const record = facility({ facility_name: "Clinic ", services: ["  Oncology"] });
      const result = validateFacility(record, JSON.stringify(record));
      expect(result).toMatchObject({ valid: true, repairs: [], canonicalJson: JSON.stringify(record) });
    });

    test("a repaired valid_until is the one the expiry window sees", () => {
      const result = validateFacility(facility(accreditation({ valid_until: "2027-01-31T00:00:00Z" })));
      expect(result.valid && result.facility.accreditations[0].valid_until).toBe("2027-01-31");
    });

    test("every repair of a record is listed, in field order", () => {
      const result = validateFacility(
        facility({ employee_count: "7", location: { address: "1 Main", city: "Burlington", state: "vt", zip: 5401 } }),
      );
      expect(result.valid && result.repairs.map((repair) => [repair.field, repair.kept])).toEqual([
        ["location.state", "VT"],
        ["location.zip", "05401"],
        ["employee_count", 7],
      ]);
    });
  });

  describe("warnings: an optional field null or missing is kept as null", () => {
    const without = (record: Record<string, unknown>, name: string) =>
      Object.fromEntries(Object.entries(record).filter(([key]) => key !== name));

    test.each([
      ["location.address", "is null", facility(location({ address: null }))],
      ["location.zip", "is missing", facility({ location: { address: "1 Main St", city: "Austin", state: "TX" } })],
      ["employee_count", "is null", facility({ employee_count: null })],
      ["services", "is missing", without(facility(), "services")],
      ["labs", "is null", facility({ labs: null })],
    ])("%s %s", (field, message, record) => {
      const result = validateFacility(record);
      expect(result).toMatchObject({ valid: true, warnings: [{ field, message }], repairs: [] });
      if (!result.valid) return;
      const line = JSON.parse(result.canonicalJson);
      const path = field.split(".");
      expect(path.reduce((value, key) => value[key], line)).toBeNull();
      expect(Object.keys(line)).toEqual(FACILITY_COLUMNS.map((column) => column.name));
    });

    test.each(["facility_id", "facility_name", "location", "accreditations"])("%s is not optional", (name) => {
      expect(problemsOf(without(facility(), name))).toEqual([{ field: name, message: "is required" }]);
      expect(problemsOf(facility({ [name]: null }))[0].field).toBe(name);
    });
  });

  describe("property: the curated line is the canonical JSON of the record, whatever the text", () => {
    // Text as a careful producer writes it: no surrounding whitespace (that is repaired, see below).
    const text = fc.string({ unit: "grapheme", maxLength: 12 }).filter((value) => value.trim() === value);
    const nonBlank = text.filter((value) => value.trim() !== "");
    const validUntil = fc.integer({ min: -719162, max: 2932896 }).map(dateOfDayNumber); // 0001-01-01 .. 9999-12-31
    const record = fc.record({
      facility_id: nonBlank,
      facility_name: nonBlank,
      location: fc.record({
        address: text,
        city: text,
        state: fc.constantFrom(...US_STATE_AND_TERRITORY_CODES),
        zip: text,
      }),
      employee_count: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.constantFrom(0, 1000, 20000, 3e6)),
      services: fc.array(text, { maxLength: 3 }),
      labs: fc.array(fc.record({ lab_name: text, certifications: fc.array(text, { maxLength: 2 }) }), { maxLength: 2 }),
      accreditations: fc.array(
        fc.record({ accreditation_body: text, accreditation_id: text, valid_until: validUntil }),
        { maxLength: 3 },
      ),
    });
    const escapeNonAscii = (json: string) =>
      json.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    const formatting = fc.constantFrom<(value: unknown) => string>(
      (value) => JSON.stringify(value),
      (value) => JSON.stringify(value, null, 2),
      (value) => JSON.stringify(value, null, "\t"),
      (value) => escapeNonAscii(JSON.stringify(value)),
      // Python's json.dumps style; strings hold no raw newline, so only the layout changes.
      (value) => JSON.stringify(value, null, 1).replace(/\n */g, " "),
    );

    test("for records in column order", () => {
      fc.assert(
        fc.property(record, formatting, (value, format) => {
          const written = format(value);
          const result = validateFacility(JSON.parse(written), written);
          expect(result.valid).toBe(true);
          if (result.valid) expect(result.canonicalJson).toBe(JSON.stringify(value));
        }),
        { numRuns: 300 },
      );
    });

    test("for records with extra fields and shuffled keys", () => {
      fc.assert(
        fc.property(
          record,
          formatting,
          fc.dictionary(fc.string({ minLength: 1 }), fc.jsonValue(), { maxKeys: 2 }),
          (value, format, extra) => {
            const known = new Set(FACILITY_COLUMNS.map((column) => column.name));
            const extras = Object.fromEntries(
              Object.entries(extra).filter(([key]) => !known.has(key) && key !== "__proto__"),
            );
            const shuffled = Object.fromEntries([...Object.entries(value), ...Object.entries(extras)].reverse());
            const written = format(shuffled);
            const result = validateFacility(JSON.parse(written), written);
            expect(result.valid).toBe(true);
            if (!result.valid) return;
            expect(result.canonicalJson).toBe(JSON.stringify(value));
            expect(result.unknownFields).toHaveLength(Object.keys(extras).length);
          },
        ),
        { numRuns: 200 },
      );
    });

    test("and an invalid value anywhere is reported at its path", () => {
      const paths = ["facility_id", "location.state", "employee_count", "services", "accreditations"] as const;
      fc.assert(
        fc.property(record, fc.constantFrom(...paths), (value, path) => {
          const broken = structuredClone(value) as Record<string, unknown>;
          if (path === "location.state") (broken.location as Record<string, unknown>).state = "XX";
          else broken[path] = path === "employee_count" ? -1 : path === "facility_id" ? "" : "not an array";
          expect(problemsOf(broken).map((problem) => problem.field)).toEqual([path]);
        }),
        { numRuns: 100 },
      );
    });
  });
});
