/**
 * Splits a byte stream into records without parsing them: the lines of JSON Lines or the
 * top-level elements of a JSON array, each with the line number it starts on.
 *
 * The format is decided by the first byte that is not whitespace (after an optional UTF-8 BOM):
 * "[" means a JSON array, anything else JSON Lines. Memory is bounded by maxRecordBytes: a record
 * longer than that is reported as oversize with its first bytes and never assembled.
 */
import { MalformedJsonArrayError } from "../shared/errors";

/** Receives records synchronously, in order. */
export interface RecordHandler {
  /** A record: a non-blank line without its line terminator, or one element of a JSON array. */
  record(line: number, bytes: Buffer): void;
  /** A record longer than maxRecordBytes, with its size (at least) and first bytes; not assembled. */
  oversize(line: number, byteLength: number, head: Buffer): void;
}

export type SourceFormat = "json-lines" | "json-array";

export interface RecordSplitterOptions {
  /** Names the source in error messages. */
  readonly source: string;
  /** Longest record accepted, in bytes (a line without its terminator, or an array element). */
  readonly maxRecordBytes: number;
}

/** How many bytes of an oversize record are kept to show in the rejected output. */
export const OVERSIZE_HEAD_BYTES = 256;

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COLON = 0x3a;
const BOM = [0xef, 0xbb, 0xbf];
const EMPTY = Buffer.alloc(0);

function isWhitespace(byte: number): boolean {
  return byte === SPACE || byte === LF || byte === CR || byte === TAB;
}

interface FormatSplitter {
  push(chunk: Buffer): void;
  end(): void;
}

/** Feeds chunks in with push(), then end(); calls the handler for each record. */
export class RecordSplitter {
  private bomPending: Buffer | undefined = EMPTY;
  private linesBeforeFirstRecord = 0;
  private inner: FormatSplitter | undefined;
  /** The detected format; undefined until a non-whitespace byte has been seen. */
  format: SourceFormat | undefined;

  constructor(
    private readonly handler: RecordHandler,
    private readonly options: RecordSplitterOptions,
  ) {}

  push(chunk: Buffer): void {
    if (this.bomPending !== undefined) {
      const head = this.bomPending.length === 0 ? chunk : Buffer.concat([this.bomPending, chunk]);
      if (head.length < BOM.length && head.every((byte, i) => byte === BOM[i])) {
        this.bomPending = head;
        return;
      }
      this.bomPending = undefined;
      chunk =
        head.length >= 3 && head[0] === BOM[0] && head[1] === BOM[1] && head[2] === BOM[2] ? head.subarray(3) : head;
    }
    if (this.inner !== undefined) {
      this.inner.push(chunk);
      return;
    }
    let i = 0;
    while (i < chunk.length && isWhitespace(chunk[i])) {
      if (chunk[i] === LF) this.linesBeforeFirstRecord++;
      i++;
    }
    if (i === chunk.length) return;
    const firstLine = this.linesBeforeFirstRecord + 1;
    this.format = chunk[i] === OPEN_BRACKET ? "json-array" : "json-lines";
    this.inner =
      this.format === "json-array"
        ? new JsonArraySplitter(this.handler, this.options, firstLine)
        : new JsonLinesSplitter(this.handler, this.options, firstLine);
    this.inner.push(chunk.subarray(i));
  }

  end(): void {
    if (this.bomPending !== undefined && this.bomPending.length > 0) {
      const partial = this.bomPending;
      this.bomPending = undefined;
      this.push(partial);
    }
    this.inner?.end();
  }
}

/** Collects the bytes of one record across chunks, or only its size and head once too long. */
class RecordBuffer {
  private pieces: Buffer[] = [];
  private bytes = 0;
  private head: Buffer | undefined;

  constructor(private readonly limit: number) {}

  get isEmpty(): boolean {
    return this.bytes === 0 && this.head === undefined;
  }

  /** Keeps the part of a record that ends a chunk (it references the chunk: no copy). */
  hold(piece: Buffer): void {
    if (piece.length === 0) return;
    this.bytes += piece.length;
    if (this.head !== undefined) return;
    this.pieces.push(piece);
    if (this.bytes > this.limit) {
      this.head = Buffer.concat(this.pieces, Math.min(this.bytes, OVERSIZE_HEAD_BYTES));
      this.pieces = [];
    }
  }

  /** Completes the record with its last piece and hands it on. */
  finish(
    last: Buffer,
    onRecord: (bytes: Buffer) => void,
    onOversize: (byteLength: number, head: Buffer) => void,
  ): void {
    if (this.head !== undefined) {
      const head = this.head;
      const byteLength = this.bytes + last.length;
      this.reset();
      onOversize(byteLength, head);
      return;
    }
    let bytes = last;
    if (this.pieces.length > 0) {
      this.pieces.push(last);
      bytes = Buffer.concat(this.pieces, this.bytes + last.length);
    }
    this.reset();
    onRecord(bytes);
  }

  private reset(): void {
    this.pieces = [];
    this.bytes = 0;
    this.head = undefined;
  }
}

class JsonLinesSplitter implements FormatSplitter {
  private readonly buffer: RecordBuffer;

  constructor(
    private readonly handler: RecordHandler,
    private readonly options: RecordSplitterOptions,
    private line: number,
  ) {
    // One byte of room for the CR of a CRLF terminator.
    this.buffer = new RecordBuffer(options.maxRecordBytes + 1);
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (let newline = chunk.indexOf(LF, start); newline !== -1; newline = chunk.indexOf(LF, start)) {
      this.buffer.finish(chunk.subarray(start, newline), this.onLine, this.onOversize);
      start = newline + 1;
      this.line++;
    }
    if (start < chunk.length) this.buffer.hold(chunk.subarray(start));
  }

  end(): void {
    if (!this.buffer.isEmpty) this.buffer.finish(EMPTY, this.onLine, this.onOversize);
  }

  private readonly onLine = (bytes: Buffer): void => {
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === CR) end--;
    let first = 0;
    while (first < end && isWhitespace(bytes[first])) first++;
    if (first === end) return; // a blank line: not a record
    if (end > this.options.maxRecordBytes) {
      this.handler.oversize(this.line, end, bytes.subarray(0, OVERSIZE_HEAD_BYTES));
      return;
    }
    this.handler.record(this.line, end === bytes.length ? bytes : bytes.subarray(0, end));
  };

  private readonly onOversize = (byteLength: number, head: Buffer): void => {
    this.handler.oversize(this.line, byteLength, head);
  };
}

const enum ArrayState {
  Open,
  FirstValueOrClose,
  Value,
  InValue,
  CommaOrClose,
  Closed,
}

/**
 * An incremental scanner over a JSON array's bytes. It tracks only what it takes to find where
 * each top-level element ends (nesting depth, strings and their escapes); the elements
 * themselves are parsed later, one at a time. Every structural byte is ASCII, so scanning bytes
 * rather than decoded text is exact for UTF-8.
 */
class JsonArraySplitter implements FormatSplitter {
  private readonly buffer: RecordBuffer;
  private state = ArrayState.Open;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private scalar = false;
  private elementLine = 0;

  constructor(
    private readonly handler: RecordHandler,
    private readonly options: RecordSplitterOptions,
    private line: number,
  ) {
    this.buffer = new RecordBuffer(options.maxRecordBytes);
  }

  push(chunk: Buffer): void {
    let elementStart = this.state === ArrayState.InValue ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === LF) this.line++;
      if (this.state === ArrayState.InValue) {
        if (this.inString) {
          if (this.escaped) this.escaped = false;
          else if (byte === BACKSLASH) this.escaped = true;
          else if (byte === QUOTE) {
            this.inString = false;
            if (this.depth === 0) this.completeElement(chunk, elementStart, i + 1);
          }
        } else if (this.scalar) {
          if (isWhitespace(byte) || byte === COMMA || byte === CLOSE_BRACKET) {
            this.completeElement(chunk, elementStart, i);
            this.afterElement(byte);
          }
        } else if (byte === QUOTE) {
          this.inString = true;
        } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
          this.depth++;
        } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
          if (--this.depth === 0) this.completeElement(chunk, elementStart, i + 1);
        }
        continue;
      }
      if (isWhitespace(byte)) continue;
      switch (this.state) {
        case ArrayState.Open:
          if (byte !== OPEN_BRACKET) this.fail(`expected "[", found ${describeByte(byte)}`);
          this.state = ArrayState.FirstValueOrClose;
          break;
        case ArrayState.FirstValueOrClose:
          if (byte === CLOSE_BRACKET) this.state = ArrayState.Closed;
          else elementStart = this.startElement(byte, i);
          break;
        case ArrayState.Value:
          elementStart = this.startElement(byte, i);
          break;
        case ArrayState.CommaOrClose:
          this.afterElement(byte);
          break;
        case ArrayState.Closed:
          this.fail(`unexpected ${describeByte(byte)} after the array's closing "]"`);
      }
    }
    if (this.state === ArrayState.InValue) this.buffer.hold(chunk.subarray(elementStart));
  }

  end(): void {
    if (this.state === ArrayState.InValue && this.scalar) {
      this.completeElement(EMPTY, 0, 0);
    }
    if (this.state === ArrayState.InValue) {
      this.fail(`the array is not closed: the object ends inside the element that starts on line ${this.elementLine}`);
    }
    if (this.state !== ArrayState.Closed) this.fail(`the array is not closed: the object ends before its closing "]"`);
  }

  private startElement(byte: number, index: number): number {
    if (byte === COMMA || byte === CLOSE_BRACKET || byte === CLOSE_BRACE || byte === COLON) {
      this.fail(`expected an array element, found ${describeByte(byte)}`);
    }
    this.state = ArrayState.InValue;
    this.elementLine = this.line;
    this.depth = byte === OPEN_BRACE || byte === OPEN_BRACKET ? 1 : 0;
    this.inString = byte === QUOTE;
    this.escaped = false;
    this.scalar = this.depth === 0 && !this.inString;
    return index;
  }

  private afterElement(byte: number): void {
    this.state = ArrayState.CommaOrClose;
    if (isWhitespace(byte)) return;
    if (byte === COMMA) this.state = ArrayState.Value;
    else if (byte === CLOSE_BRACKET) this.state = ArrayState.Closed;
    else
      this.fail(
        `expected "," or "]" after the element that starts on line ${this.elementLine}, found ${describeByte(byte)}`,
      );
  }

  private completeElement(chunk: Buffer, start: number, end: number): void {
    this.state = ArrayState.CommaOrClose;
    const line = this.elementLine;
    this.buffer.finish(
      chunk.subarray(start, end),
      (bytes) => {
        if (bytes.length > this.options.maxRecordBytes) {
          this.handler.oversize(line, bytes.length, bytes.subarray(0, OVERSIZE_HEAD_BYTES));
        } else {
          this.handler.record(line, bytes);
        }
      },
      (byteLength, head) => this.handler.oversize(line, byteLength, head),
    );
  }

  private fail(message: string): never {
    throw new MalformedJsonArrayError(`${this.options.source} line ${this.line}: not a valid JSON array: ${message}`);
  }
}

function describeByte(byte: number): string {
  return byte >= 0x21 && byte <= 0x7e
    ? JSON.stringify(String.fromCharCode(byte))
    : `byte 0x${byte.toString(16).padStart(2, "0")}`;
}
