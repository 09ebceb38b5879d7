import fc from "fast-check";
import { OVERSIZE_HEAD_BYTES, RecordSplitter } from "../../../lambdas/filter-expiring/record-splitter";
import { MalformedJsonArrayError } from "../../../lambdas/shared/errors";

type Found = { line: number; text: string } | { line: number; oversize: number; head: string };

/** Splits `input`, fed in the given chunks, and returns what the splitter reported. */
function split(input: Buffer | string, options: { chunkSizes?: number[]; maxRecordBytes?: number } = {}) {
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  const found: Found[] = [];
  const splitter = new RecordSplitter(
    {
      record: (line, record) => found.push({ line, text: record.toString("utf8") }),
      oversize: (line, byteLength, head) => found.push({ line, oversize: byteLength, head: head.toString("utf8") }),
    },
    { source: "raw/test.json", maxRecordBytes: options.maxRecordBytes ?? 1024 },
  );
  let offset = 0;
  for (const size of options.chunkSizes ?? []) {
    splitter.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  splitter.push(bytes.subarray(offset));
  splitter.end();
  return { found, format: splitter.format };
}

describe("RecordSplitter: JSON Lines", () => {
  test("numbers lines from 1 and skips blank ones, CRLF and a BOM included", () => {
    const input = '\uFEFF{"a":1}\r\n\r\n   \r\n{"a":2}\r\n\t\n{"a":3}';
    expect(split(input)).toEqual({
      format: "json-lines",
      found: [
        { line: 1, text: '{"a":1}' },
        { line: 4, text: '{"a":2}' },
        { line: 6, text: '{"a":3}' },
      ],
    });
  });

  test("counts leading blank lines before the first record", () => {
    expect(split('\n\n  \n{"a":1}\n').found).toEqual([{ line: 4, text: '{"a":1}' }]);
  });

  test("treats an object of whitespace only as empty", () => {
    expect(split(" \r\n\t\n")).toEqual({ format: undefined, found: [] });
    expect(split("")).toEqual({ format: undefined, found: [] });
    expect(split("\uFEFF")).toEqual({ format: undefined, found: [] });
  });

  test("passes any other first byte on as JSON Lines, for the parser to reject", () => {
    expect(split("not json\n{}\n")).toEqual({
      format: "json-lines",
      found: [
        { line: 1, text: "not json" },
        { line: 2, text: "{}" },
      ],
    });
  });

  test("reports a line over the limit with its size and head, without assembling it", () => {
    const long = `{"x":"${"y".repeat(3000)}"}`;
    const { found } = split(`{"a":1}\n${long}\r\n{"a":2}\n`, { maxRecordBytes: 1024, chunkSizes: [5, 700, 700, 700] });
    expect(found).toEqual([
      { line: 1, text: '{"a":1}' },
      { line: 2, oversize: expect.any(Number), head: long.slice(0, OVERSIZE_HEAD_BYTES) },
      { line: 3, text: '{"a":2}' },
    ]);
    expect((found[1] as { oversize: number }).oversize).toBeGreaterThanOrEqual(long.length);
  });

  test("accepts a line of exactly the limit, CRLF or not", () => {
    const exact = `"${"z".repeat(1022)}"`;
    expect(split(`${exact}\r\n${exact}`, { maxRecordBytes: 1024 }).found).toEqual([
      { line: 1, text: exact },
      { line: 2, text: exact },
    ]);
    expect(split(`${exact}z\n`, { maxRecordBytes: 1024 }).found[0]).toMatchObject({ line: 1, oversize: 1025 });
  });
});

describe("RecordSplitter: JSON arrays", () => {
  test("splits top-level elements and reports the line each starts on", () => {
    const input = '[\n  {"a": [1, {"b": "]},{["}]},\n  {"c": "x\\"y"},\n\n  {"d":\n 4}\n]\n';
    expect(split(input)).toEqual({
      format: "json-array",
      found: [
        { line: 2, text: '{"a": [1, {"b": "]},{["}]}' },
        { line: 3, text: '{"c": "x\\"y"}' },
        { line: 5, text: '{"d":\n 4}' },
      ],
    });
  });

  test("passes scalars and nested arrays on as elements (the parser rejects them)", () => {
    expect(split('[1, "two", null,[3], -4.5e2 ,true]').found.map((found) => (found as { text: string }).text)).toEqual([
      "1",
      '"two"',
      "null",
      "[3]",
      "-4.5e2",
      "true",
    ]);
  });

  test("accepts an empty array, a BOM and CRLF", () => {
    expect(split("[]")).toEqual({ format: "json-array", found: [] });
    expect(split('\uFEFF\r\n[\r\n{"a":1}\r\n]\r\n').found).toEqual([{ line: 3, text: '{"a":1}' }]);
  });

  test("reports an element over the limit without assembling it", () => {
    const big = `{"x":"${"y".repeat(2000)}"}`;
    expect(split(`[${big},\n{"a":1}]`, { maxRecordBytes: 1024, chunkSizes: [100, 100, 1000] }).found).toEqual([
      { line: 1, oversize: big.length, head: big.slice(0, OVERSIZE_HEAD_BYTES) },
      { line: 2, text: '{"a":1}' },
    ]);
  });

  test.each([
    ['[{"a":1} {"a":2}]', 1, 'expected "," or "]" after the element that starts on line 1, found "{"'],
    ['[{"a":1},]', 1, 'expected an array element, found "]"'],
    ["[,{}]", 1, 'expected an array element, found ","'],
    ['[{"a":1}]\n{"b":2}', 2, 'unexpected "{" after the array\'s closing "]"'],
    ['[{"a":1},\n{"b":', 2, "the array is not closed: the object ends inside the element that starts on line 2"],
    ['[{"a":1}', 1, 'the array is not closed: the object ends before its closing "]"'],
  ])("refuses %j (line %i)", (input, line, message) => {
    expect(() => split(input)).toThrow(MalformedJsonArrayError);
    expect(() => split(input)).toThrow(`raw/test.json line ${line}: not a valid JSON array: ${message}`);
  });
});

describe("RecordSplitter: chunk boundaries", () => {
  const LARGE = 1024 * 1024;
  const element = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)),
    fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value, null, 2)),
    fc.string({ unit: "grapheme" }).map((value) => JSON.stringify({ s: value })),
  );

  test("any chunking of a JSON array yields the same elements and lines as one chunk", () => {
    fc.assert(
      fc.property(
        fc.array(element, { maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 40 })),
        fc.boolean(),
        (elements, chunks, bom) => {
          const input = Buffer.from(`${bom ? "\uFEFF" : ""}[\r\n${elements.join(",\n")}\n]`, "utf8");
          const whole = split(input, { maxRecordBytes: LARGE });
          expect(whole.found.map((found) => (found as { text: string }).text)).toEqual(elements);
          expect(split(input, { chunkSizes: chunks, maxRecordBytes: LARGE })).toEqual(whole);
        },
      ),
    );
  });

  test("any chunking of JSON Lines yields the same records and lines as one chunk", () => {
    // Records are objects: a first line starting with "[" would make the source a JSON array.
    const line = fc
      .dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 })
      .map((value) => JSON.stringify(value));
    const separator = fc.constantFrom("\n", "\r\n", "\n\n", "\n  \r\n");
    fc.assert(
      fc.property(
        fc.array(fc.tuple(line, separator), { maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: 30 })),
        (lines, chunks) => {
          const text = lines.map(([record, end]) => record + end).join("");
          const input = Buffer.from(`\uFEFF${text}`, "utf8");
          const whole = split(input, { maxRecordBytes: LARGE });
          expect(whole.found.map((found) => (found as { text: string }).text)).toEqual(lines.map(([record]) => record));
          expect(split(input, { chunkSizes: chunks, maxRecordBytes: LARGE })).toEqual(whole);
        },
      ),
    );
  });
});
