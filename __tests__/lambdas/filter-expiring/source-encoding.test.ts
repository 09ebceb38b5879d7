import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import {
  decodedBytes,
  InvalidUtf16Error,
  utf16Encoding,
  windows1252Hint,
  WRONG_FILE_HEAD_BYTES,
  wrongFileHint,
} from "../../../lambdas/filter-expiring/source-encoding";

const CORPUS = join(__dirname, "..", "..", "fixtures", "bad-input");
const fixture = (file: string) => readFileSync(join(CORPUS, file));

async function* source(chunks: readonly Buffer[]): AsyncGenerator<Buffer> {
  yield* chunks;
}

async function collect(chunks: readonly Buffer[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of decodedBytes(source(chunks), { source: "raw/x.jsonl" })) out.push(chunk);
  return out;
}

const decodedText = async (chunks: readonly Buffer[]) => Buffer.concat(await collect(chunks)).toString("utf8");

/** `text` as UTF-16 with its byte order mark. */
function utf16(text: string, encoding: "utf-16le" | "utf-16be"): Buffer {
  const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
  return encoding === "utf-16le" ? bytes : bytes.swap16();
}

/** ASCII, two-byte and three-byte UTF-8 characters, a surrogate pair, CRLF. */
const SAMPLE = '{"facility_name":"Clínica San José – 😀"}\r\n{"a":1}\n';

describe("utf16Encoding", () => {
  test("reads the byte order mark", () => {
    expect(utf16Encoding(Buffer.from([0xff, 0xfe, 0x7b, 0x00]))).toBe("utf-16le");
    expect(utf16Encoding(Buffer.from([0xfe, 0xff, 0x00, 0x7b]))).toBe("utf-16be");
  });

  test("reads UTF-32LE's byte order mark as UTF-16LE, as the WHATWG Encoding Standard does", () => {
    expect(utf16Encoding(Buffer.from([0xff, 0xfe, 0x00, 0x00]))).toBe("utf-16le");
  });

  test("finds none in UTF-8, with or without its BOM, nor in fewer than two bytes", () => {
    expect(utf16Encoding(Buffer.from('{"a":1}'))).toBeUndefined();
    expect(utf16Encoding(Buffer.from([0xef, 0xbb, 0xbf, 0x7b]))).toBeUndefined();
    expect(utf16Encoding(Buffer.from([0xff]))).toBeUndefined();
    expect(utf16Encoding(Buffer.alloc(0))).toBeUndefined();
  });
});

describe("decodedBytes", () => {
  describe.each(["utf-16le", "utf-16be"] as const)("%s with a byte order mark", (encoding) => {
    const bytes = utf16(SAMPLE, encoding);

    test("is transcoded to UTF-8 without the mark, whatever chunk boundary splits it", async () => {
      for (let split = 0; split <= bytes.length; split++) {
        const text = await decodedText([bytes.subarray(0, split), bytes.subarray(split)]);
        expect({ split, text }).toEqual({ split, text: SAMPLE });
      }
    });

    test("is transcoded when fed one byte at a time", async () => {
      const bytesOneByOne = [...bytes].map((byte) => Buffer.from([byte]));
      expect(await decodedText(bytesOneByOne)).toBe(SAMPLE);
    });

    test("keeps a byte order mark after the first, as U+FEFF for the parser to reject", async () => {
      const concatenated = Buffer.concat([utf16('{"a":1}\n', encoding), utf16('{"a":2}\n', encoding)]);
      expect(await decodedText([concatenated])).toBe('{"a":1}\n\uFEFF{"a":2}\n');
    });

    test("yields nothing for the mark alone", async () => {
      expect(await collect([bytes.subarray(0, 2)])).toEqual([]);
    });
  });

  test("passes any other source through as the same Buffers", async () => {
    const cases = [
      [Buffer.from('{"a":1}\n'), Buffer.from('{"b":2}\n')],
      [Buffer.from("{"), Buffer.alloc(0), Buffer.from('"a":1}\n')],
      [Buffer.from([0xff]), Buffer.from([0x7b, 0x7d])],
      [Buffer.from([0xfe])],
      [Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d])],
      [Buffer.from([0x1f, 0x8b, 0x08])],
    ];
    for (const chunks of cases) {
      const out = await collect(chunks);
      expect(out).toHaveLength(chunks.length);
      out.forEach((chunk, i) => expect(chunk).toBe(chunks[i]));
    }
    expect(await collect([])).toEqual([]);
  });

  test("reports invalid UTF-16", async () => {
    const le = (...units: number[]) =>
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(Uint16Array.from(units).buffer)]);
    const oddFinalByte = Buffer.concat([le(0x7b, 0x7d), Buffer.from([0x0a])]);
    await expect(collect([oddFinalByte])).rejects.toThrow(
      new InvalidUtf16Error(
        "raw/x.jsonl starts with a UTF-16LE byte order mark but is not valid UTF-16 (it ends in the middle of a character): export it as UTF-8",
      ),
    );
    await expect(collect([le(0x7b, 0xd83d)])).rejects.toThrow(/it ends in the middle of a character/);
    await expect(collect([le(0x7b, 0xd83d, 0x41, 0x7d)])).rejects.toThrow(
      new InvalidUtf16Error(
        "raw/x.jsonl starts with a UTF-16LE byte order mark but is not valid UTF-16 (it holds an unpaired surrogate): export it as UTF-8",
      ),
    );
    await expect(collect([le(0x7b), le(0xde00).subarray(2)])).rejects.toThrow(/unpaired surrogate/);
    await expect(collect([le(0x7b, 0x7d).swap16().subarray(0, 5)])).rejects.toThrow(
      /starts with a UTF-16BE byte order mark but is not valid UTF-16/,
    );
    const error = await collect([oddFinalByte]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidUtf16Error);
    expect((error as Error).name).toBe("InvalidUtf16Error");
  });

  test("ends the source when the consumer stops early", async () => {
    let ended = false;
    async function* endless(first: Buffer): AsyncGenerator<Buffer> {
      try {
        for (;;) yield first;
      } finally {
        ended = true;
      }
    }
    for (const first of [utf16('{"a":1}\n', "utf-16le"), Buffer.from('{"a":1}\n')]) {
      ended = false;
      for await (const chunk of decodedBytes(endless(first), { source: "raw/x.jsonl" })) {
        expect(chunk.toString()).toBe('{"a":1}\n');
        break;
      }
      expect(ended).toBe(true);
    }
  });

  test("transcodes the UTF-16 fixtures to JSON Lines", async () => {
    const withBom = await decodedText([fixture("utf16le-bom.jsonl")]);
    const records = withBom.split("\r\n").slice(0, -1);
    expect(records.map((line) => JSON.parse(line).facility_name)).toEqual([
      "Clínica San José",
      "Hôpital Sainte-Thérèse",
      "Gulf Coast Urgent Care",
    ]);
    const older = (await decodedText([fixture("utf16le.jsonl")])).split("\n");
    expect(older.slice(0, -1).map((line) => JSON.parse(line).facility_id)).toEqual(["FAC-UT-0001", "FAC-UT-0002"]);
  });
});

describe("wrongFileHint", () => {
  const csvHint = (shown: string) =>
    `looks like a CSV export (its first line is ${JSON.stringify(shown)}), not JSON: the pipeline reads JSON Lines (one JSON object per line, UTF-8) or a JSON array, so export the records as JSON from the system they come from, or convert each row to one JSON object with its location, labs and accreditations nested`;

  test("names a zip archive, an Excel workbook among them", () => {
    const hint =
      "is a zip archive, such as an Excel workbook (.xlsx), not JSON: export the records as JSON Lines (one JSON object per line, UTF-8) or a JSON array; a compressed upload must be gzip, not zip";
    expect(wrongFileHint(fixture("excel-export.xlsx"))).toBe(hint);
    expect(wrongFileHint(Buffer.from("PK\x03\x04\x14\x00\x00\x00", "latin1"))).toBe(hint);
  });

  test("names an old binary Office file", () => {
    const xls = Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(504)]);
    expect(wrongFileHint(xls)).toBe(
      "is an Office file in the old binary format, such as an Excel 97-2003 workbook (.xls), not JSON: export the records as JSON Lines (one JSON object per line, UTF-8) or a JSON array",
    );
  });

  test("names CSV by its header line, cut to 60 characters", () => {
    expect(wrongFileHint(fixture("csv-export.csv"))).toBe(
      csvHint("facility_id,facility_name,address,city,state,zip,employee_co..."),
    );
    expect(wrongFileHint(Buffer.from("\uFEFF\r\n  facility_id, facility_name ,State\r\nFAC-1,A,TX\r\n"))).toBe(
      csvHint("facility_id, facility_name ,State"),
    );
    expect(wrongFileHint(Buffer.from('"facility_id","facility_name",,"Código postal"\n'))).toBe(
      csvHint('"facility_id","facility_name",,"Código postal"'),
    );
  });

  test("does not take a JSON record or a line of prose without commas for CSV", () => {
    for (const text of [
      '{"facility_id":"FAC-1","facility_name":"A, B"}\n',
      '[{"facility_id":"FAC-1"},{"facility_id":"FAC-2"}]',
      '[\n  {"facility_id": "FAC-1"},\n  {"facility_id": "FAC-2"}\n]\n',
      "facility_id: FAC-1, facility_name: A\n",
      "not json at all\n",
      "facility_id,\n",
      "",
      " \n\t\n",
    ]) {
      expect({ text, hint: wrongFileHint(Buffer.from(text)) }).toEqual({ text, hint: undefined });
    }
  });

  test("names Windows-1252 by the first word it decodes with an accent", () => {
    expect(wrongFileHint(fixture("windows-1252.jsonl"))).toBe(
      'is not UTF-8 but looks like Windows-1252, in which it reads "Clínica": save or export the file as UTF-8',
    );
    const quotes = Buffer.from("St. Mary\x92s Clinic, \x93open\x94\n", "latin1");
    expect(wrongFileHint(quotes)).toMatch(/in which it reads "Mary’s"/);
  });

  test("does not take UTF-8, binary data or broken UTF-8 for Windows-1252", () => {
    const utf8 = Buffer.from('{"facility_name":"Clínica San José – Hôpital"}\n');
    expect(wrongFileHint(utf8)).toBeUndefined();
    // A head that stops inside a UTF-8 character: "é" is C3 A9.
    expect(wrongFileHint(utf8.subarray(0, utf8.indexOf(0xa9)))).toBeUndefined();
    expect(wrongFileHint(Buffer.from([0x7b, 0xe9, 0x00, 0x7d]))).toBeUndefined(); // a NUL
    expect(wrongFileHint(Buffer.from([0x7b, 0xe9, 0x81, 0x7d]))).toBeUndefined(); // undefined in Windows-1252
    expect(wrongFileHint(Buffer.from([0x7b, 0xc0, 0xaf, 0x7d]))).toBeUndefined(); // an overlong "/"
    expect(wrongFileHint(Buffer.from([0x7b, 0xed, 0xa0, 0x80, 0x7d]))).toBeUndefined(); // a surrogate, UTF-8-encoded
    expect(wrongFileHint(Buffer.from([0x7b, 0xb0, 0x7d]))).toBeUndefined(); // "°": neither letter nor punctuation
    expect(wrongFileHint(gzipSync(utf8))).toBeUndefined();
  });

  test("looks at the first WRONG_FILE_HEAD_BYTES only", () => {
    const line = Buffer.from('{"facility_id":"FAC-1"}\n');
    const lines = Buffer.concat(Array.from({ length: Math.ceil(WRONG_FILE_HEAD_BYTES / line.length) }, () => line));
    expect(lines.length).toBeGreaterThanOrEqual(WRONG_FILE_HEAD_BYTES);
    expect(wrongFileHint(Buffer.concat([lines, Buffer.from([0x43, 0x61, 0x66, 0xe9])]))).toBeUndefined();
    expect(wrongFileHint(Buffer.concat([Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x0a]), lines]))).toMatch(/"Café"/);
  });

  test("gives none for the corpus's JSON files, decompressed and decoded as the parser sees them", async () => {
    for (const file of [
      "bom.jsonl",
      "crlf.jsonl",
      "dates.jsonl",
      "deep-nesting.jsonl",
      "duplicate-ids.jsonl",
      "empty.jsonl",
      "gzip-misnamed.jsonl",
      "gzip-mixed.jsonl.gz",
      "json-array-bad-element.json",
      "json-array-unclosed.json",
      "malformed-lines.jsonl",
      "missing-empty-wrong-type.jsonl",
      "over-long-line.jsonl",
      "utf16le.jsonl",
      "utf16le-bom.jsonl",
      "whitespace-only.jsonl",
      // Not JSON, but nothing to name: random bytes, and a file mixing Latin-1 and broken UTF-8.
      "binary-garbage.bin",
      "non-utf8.jsonl",
    ]) {
      let bytes = fixture(file);
      if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
      const head = Buffer.concat(await collect([bytes]));
      expect({ file, hint: wrongFileHint(head) }).toEqual({ file, hint: undefined });
    }
  });
});

describe("windows1252Hint", () => {
  const linesOf = (file: string) =>
    fixture(file)
      .toString("latin1")
      .split("\n")
      .map((line) => Buffer.from(line, "latin1"));

  test("names Windows-1252 in the fixture's one line written in it", () => {
    expect(linesOf("windows-1252.jsonl").slice(0, 3).map(windows1252Hint)).toEqual([
      undefined,
      'looks like Windows-1252 ("Clínica"): export the file as UTF-8',
      undefined,
    ]);
  });

  test("names the Latin-1 line of non-utf8.jsonl, not its broken UTF-8", () => {
    expect(linesOf("non-utf8.jsonl").slice(0, 5).map(windows1252Hint)).toEqual([
      undefined,
      'looks like Windows-1252 ("Sainte-Thérèse"): export the file as UTF-8',
      undefined,
      undefined,
      undefined,
    ]);
  });

  test("gives none for valid UTF-8 accents, ASCII or binary", () => {
    expect(windows1252Hint(Buffer.from('{"facility_name":"Clínica San José"}'))).toBeUndefined();
    expect(windows1252Hint(Buffer.from('{"facility_name":"Plain"}'))).toBeUndefined();
    expect(windows1252Hint(fixture("binary-garbage.bin"))).toBeUndefined();
  });

  test("keeps the example word short", () => {
    const long = Buffer.concat([Buffer.from("a".repeat(100)), Buffer.from([0xe9]), Buffer.from("b".repeat(100))]);
    expect(windows1252Hint(long)).toBe(
      `looks like Windows-1252 ("${"a".repeat(30)}é${"b".repeat(30)}"): export the file as UTF-8`,
    );
  });
});
