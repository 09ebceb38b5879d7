/**
 * The character encoding of a source, and hints for a file that is plainly not what the pipeline
 * reads (JSON Lines or a JSON array, in UTF-8).
 *
 * A UTF-16 file with a byte order mark is transcoded to UTF-8, since Windows tools write one
 * unasked: Windows PowerShell 5.1's `>` and Out-File, Notepad's and Excel's "Unicode" options.
 * Other encodings are not guessed at: a file in Windows-1252 or a spreadsheet uploaded as it is
 * gets its records rejected as usual, and the hints below tell the uploader what to export instead.
 * The hints are phrases meant to follow the source's name: `${source} ${hint}`.
 */
import { isUtf8 } from "node:buffer";

/** The file starts with a UTF-16 byte order mark but its bytes are not valid UTF-16. */
export class InvalidUtf16Error extends Error {
  override readonly name: string = "InvalidUtf16Error";
}

export interface DecodedBytesOptions {
  /** Names the source in error messages. */
  readonly source: string;
}

export type Utf16Encoding = "utf-16le" | "utf-16be";

/**
 * The UTF-16 encoding that `head`, the first bytes of a source, declares with a byte order mark
 * (FF FE little-endian, FE FF big-endian), or undefined for none.
 *
 * FF FE 00 00, UTF-32LE's byte order mark, reads as UTF-16LE too, as in the WHATWG Encoding
 * Standard that TextDecoder implements (it has no UTF-32): such a file decodes to text with a NUL
 * after every character, and its records are rejected as not JSON.
 */
export function utf16Encoding(head: Buffer): Utf16Encoding | undefined {
  if (head.length < 2) return undefined;
  if (head[0] === 0xff && head[1] === 0xfe) return "utf-16le";
  if (head[0] === 0xfe && head[1] === 0xff) return "utf-16be";
  return undefined;
}

/**
 * Yields `input` as UTF-8: when it starts with a UTF-16 byte order mark, transcoded as it streams
 * (the mark dropped; a character split across chunks is decoded whole), otherwise the same
 * Buffers, unchanged and uncopied. Throws InvalidUtf16Error when a UTF-16 stream holds an unpaired
 * surrogate or ends inside a character; the chunks before it have been yielded by then.
 *
 * Transcoding changes the byte count: ASCII takes half the bytes in UTF-8, characters from U+0800
 * up half as many again, so a cap on the input's size allows at most 1.5 times as much output.
 * Stopping early (an error, or the consumer returning) ends `input`.
 */
export async function* decodedBytes(
  input: AsyncIterable<Buffer>,
  options: DecodedBytesOptions,
): AsyncGenerator<Buffer, void, undefined> {
  const iterator = input[Symbol.asyncIterator]();
  try {
    const head: Buffer[] = [];
    let headLength = 0;
    let exhausted = false;
    while (headLength < 2) {
      const next = await iterator.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      head.push(next.value);
      headLength += next.value.length;
    }
    const encoding = utf16Encoding(Buffer.concat(head, Math.min(headLength, 2)));

    async function* chunks(): AsyncGenerator<Buffer, void, undefined> {
      yield* head;
      if (exhausted) return;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    }

    if (encoding === undefined) {
      yield* chunks();
      return;
    }

    // fatal: an invalid sequence throws rather than becoming U+FFFD; the BOM is consumed (ignoreBOM false).
    const decoder = new TextDecoder(encoding, { fatal: true });
    const decode = (chunk?: Buffer): Buffer => {
      try {
        return Buffer.from(chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true }), "utf8");
      } catch (error) {
        if ((error as { code?: unknown }).code !== "ERR_ENCODING_INVALID_ENCODED_DATA") throw error;
        const problem = chunk === undefined ? "it ends in the middle of a character" : "it holds an unpaired surrogate";
        const name = encoding === "utf-16le" ? "UTF-16LE" : "UTF-16BE";
        throw new InvalidUtf16Error(
          `${options.source} starts with a ${name} byte order mark but is not valid UTF-16 (${problem}): export it as UTF-8`,
        );
      }
    };
    for await (const chunk of chunks()) {
      const utf8 = decode(chunk);
      if (utf8.length > 0) yield utf8;
    }
    const last = decode();
    if (last.length > 0) yield last;
  } finally {
    await iterator.return?.();
  }
}

/** How many of a source's first bytes wrongFileHint looks at: enough for a CSV header and a few rows. */
export const WRONG_FILE_HEAD_BYTES = 64 * 1024;

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const JSON_FORMS = "JSON Lines (one JSON object per line, UTF-8) or a JSON array";

/**
 * A hint when `head`, the first bytes of a source as the parser sees them (decompressed and
 * decoded), is plainly not JSON: a zip archive (an Excel workbook is one), an old binary Office
 * file, CSV, or text in Windows-1252; undefined otherwise. Only the first WRONG_FILE_HEAD_BYTES
 * are looked at.
 */
export function wrongFileHint(head: Buffer): string | undefined {
  const bytes = head.subarray(0, WRONG_FILE_HEAD_BYTES);
  if (startsWith(bytes, ZIP_MAGIC)) {
    return `is a zip archive, such as an Excel workbook (.xlsx), not JSON: export the records as ${JSON_FORMS}; a compressed upload must be gzip, not zip`;
  }
  if (startsWith(bytes, OLE_MAGIC)) {
    return `is an Office file in the old binary format, such as an Excel 97-2003 workbook (.xls), not JSON: export the records as ${JSON_FORMS}`;
  }
  const header = csvHeader(bytes);
  if (header !== undefined) {
    const shown = [...header].length > 60 ? `${[...header].slice(0, 60).join("")}...` : header;
    return `looks like a CSV export (its first line is ${JSON.stringify(shown)}), not JSON: the pipeline reads ${JSON_FORMS}, so export the records as JSON from the system they come from, or convert each row to one JSON object with its location, labs and accreditations nested`;
  }
  const word = windows1252Word(withoutCutSequence(bytes));
  if (word !== undefined) {
    return `is not UTF-8 but looks like Windows-1252, in which it reads ${JSON.stringify(word)}: save or export the file as UTF-8`;
  }
  return undefined;
}

/**
 * A hint for one record whose bytes are not valid UTF-8 when they look like Windows-1252, by the
 * rule wrongFileHint applies to a whole file; undefined otherwise.
 */
export function windows1252Hint(lineBytes: Buffer): string | undefined {
  const word = windows1252Word(lineBytes);
  return word === undefined ? undefined : `looks like Windows-1252 (${JSON.stringify(word)}): export the file as UTF-8`;
}

function startsWith(bytes: Buffer, prefix: Buffer): boolean {
  return bytes.length >= prefix.length && bytes.subarray(0, prefix.length).equals(prefix);
}

/** A header name: letters, digits and the punctuation names use, optionally quoted. */
const CSV_CELL = /^[\p{L}\p{N}_ "'.\-/()#]+$/u;

/**
 * The first line of `head` (after an optional UTF-8 BOM and blank lines) when it reads as a CSV
 * header: at least two comma-separated names, every cell a name or empty. A JSON record's first
 * line fails this: "{", "[" and ":" are not in a name.
 */
function csvHeader(head: Buffer): string | undefined {
  let start = startsWith(head, UTF8_BOM) ? UTF8_BOM.length : 0;
  while (start < head.length && (head[start] === 0x20 || (head[start] >= 0x09 && head[start] <= 0x0d))) start++;
  const newline = head.indexOf(0x0a, start);
  const line = head
    .subarray(start, newline === -1 ? head.length : newline)
    .toString("utf8")
    .replace(/\r$/, "");
  const cells = line.split(",").map((cell) => cell.trim());
  const named = cells.filter((cell) => cell !== "");
  if (named.length < 2 || !named.every((cell) => CSV_CELL.test(cell))) return undefined;
  return line;
}

/**
 * `head` without a UTF-8 sequence cut short at its end: the head of a longer source may stop in
 * the middle of a character, which is no sign of another encoding.
 */
function withoutCutSequence(head: Buffer): Buffer {
  for (let back = 1; back <= Math.min(3, head.length); back++) {
    const byte = head[head.length - back];
    if (byte < 0x80) return head;
    if (byte >= 0xc0) return utf8SequenceLength(byte) > back ? head.subarray(0, head.length - back) : head;
  }
  return head;
}

/** How many bytes the UTF-8 sequence a lead byte (0xC0 and up) starts claims to take. */
function utf8SequenceLength(lead: number): number {
  return lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
}

const WINDOWS_1252 = new TextDecoder("windows-1252");
/** The bytes Windows-1252 leaves undefined (TextDecoder maps them to C1 control characters). */
const UNDEFINED_IN_WINDOWS_1252 = new Set([0x81, 0x8d, 0x8f, 0x90, 0x9d]);
/** A non-ASCII letter or punctuation mark: é, ü, ñ, ’, “, –. */
const TYPICAL = /(?!\p{ASCII})[\p{L}\p{P}]/u;
/** What ends a word around the example: whitespace (NBSP included) and JSON's and CSV's punctuation. */
const WORD_BREAK = /[\s"{}[\],:;]/;
/** The most characters of the example word kept on each side of its first typical character. */
const WORD_SIDE = 30;

/**
 * The rule for "looks like Windows-1252", returning the first word to show for it: the bytes are
 * not UTF-8; none is a control character (but tab, LF and CR) or undefined in Windows-1252, which
 * binary data always has; none of their non-ASCII runs is shaped like a UTF-8 character (a lead
 * byte and its continuation bytes), as an overlong or a surrogate's encoding is, which is broken
 * UTF-8 rather than another encoding; and decoded as Windows-1252 they hold a non-ASCII letter or
 * punctuation mark. Latin-1 (ISO-8859-1) text passes too: Windows-1252 is a superset of its
 * printable characters.
 */
function windows1252Word(bytes: Buffer): string | undefined {
  if (isUtf8(bytes)) return undefined;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return undefined;
    if (byte === 0x7f || UNDEFINED_IN_WINDOWS_1252.has(byte)) return undefined;
    if (byte >= 0xc0 && byte <= 0xf7 && isUtf8Shaped(bytes, i)) return undefined;
  }
  const text = WINDOWS_1252.decode(bytes);
  const typical = TYPICAL.exec(text);
  if (typical === null) return undefined;
  let start = typical.index;
  while (start > 0 && typical.index - start < WORD_SIDE && !WORD_BREAK.test(text[start - 1])) start--;
  let end = typical.index + 1;
  while (end < text.length && end - typical.index <= WORD_SIDE && !WORD_BREAK.test(text[end])) end++;
  return text.slice(start, end);
}

/** The lead byte at `i` is followed by as many continuation bytes (0x80-0xBF) as it claims. */
function isUtf8Shaped(bytes: Buffer, i: number): boolean {
  const length = utf8SequenceLength(bytes[i]);
  if (i + length > bytes.length) return false;
  for (let j = i + 1; j < i + length; j++) if (bytes[j] < 0x80 || bytes[j] > 0xbf) return false;
  return true;
}
