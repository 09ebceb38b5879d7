/**
 * The bytes of a source object as the parser sees them: gunzipped when the object starts with the
 * gzip magic bytes (whatever its name says), and never more than a fixed number of them.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { CorruptGzipError, DecompressedSizeExceededError } from "../shared/errors";

const GZIP_MAGIC = [0x1f, 0x8b];

export interface InputBytesOptions {
  /** Names the source in error messages. */
  readonly source: string;
  /** The most bytes the source may hold once decompressed (for a plain object: its size). */
  readonly maxDecompressedBytes: number;
}

/**
 * Yields the decompressed bytes of `input` in chunks (at most zlib's 16 KiB each when gunzipping).
 * Throws DecompressedSizeExceededError as soon as the total passes the limit, so a gzip bomb
 * costs at most one chunk more than the limit, and CorruptGzipError for a damaged gzip stream.
 * Stopping early (an error, or the consumer returning) destroys `input`.
 */
export async function* inputBytes(
  input: AsyncIterable<Buffer | Uint8Array | string>,
  options: InputBytesOptions,
): AsyncGenerator<Buffer, void, undefined> {
  const iterator = input[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLength = 0;
  let exhausted = false;
  let feeding: Promise<void> | undefined;
  try {
    while (headLength < GZIP_MAGIC.length) {
      const next = await iterator.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      const chunk = toBuffer(next.value);
      head.push(chunk);
      headLength += chunk.length;
    }
    const first = head.length === 1 ? head[0] : Buffer.concat(head);
    const isGzip = first.length >= 2 && first[0] === GZIP_MAGIC[0] && first[1] === GZIP_MAGIC[1];

    async function* raw(): AsyncGenerator<Buffer, void, undefined> {
      if (first.length > 0) yield first;
      if (exhausted) return;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield toBuffer(next.value);
    }

    let total = 0;
    const count = (chunk: Buffer): Buffer => {
      total += chunk.length;
      if (total > options.maxDecompressedBytes) {
        throw new DecompressedSizeExceededError(
          `${options.source} holds more than ${options.maxDecompressedBytes} bytes${isGzip ? " once decompressed" : ""}, the limit set by MAX_DECOMPRESSED_BYTES; nothing was written`,
        );
      }
      return chunk;
    };

    if (!isGzip) {
      for await (const chunk of raw()) yield count(chunk);
      return;
    }

    const gunzip = createGunzip();
    // The pipeline feeds the gunzip stream while we read from it; its own failure (a read error
    // on the source) also destroys gunzip, so it surfaces below, and is otherwise ignored here.
    feeding = pipeline(Readable.from(raw()), gunzip).catch(() => undefined);
    try {
      for await (const chunk of gunzip) yield count(chunk as Buffer);
    } catch (error) {
      if (isZlibError(error)) {
        throw new CorruptGzipError(`${options.source} starts like gzip but cannot be decompressed: ${error.message}`);
      }
      throw error;
    } finally {
      gunzip.destroy();
    }
  } finally {
    // Destroy the source first: the feeding pipeline may be waiting on its next chunk.
    await iterator.return?.();
    await feeding;
  }
}

function toBuffer(chunk: Buffer | Uint8Array | string): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  return typeof chunk === "string"
    ? Buffer.from(chunk, "utf8")
    : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** zlib's errors carry a code such as Z_DATA_ERROR or Z_BUF_ERROR. */
function isZlibError(error: unknown): error is Error & { code: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("Z_");
}
