/**
 * Writes lines to a Writable in batches (one write per ~64 KiB rather than per line), encoding
 * into the batch buffer directly, and lets the producer wait for the sink to drain, so memory
 * stays bounded whatever the output's size.
 */
import type { Writable } from "node:stream";

const BATCH_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

export class LineWriter {
  private batch = Buffer.allocUnsafe(BATCH_BYTES);
  private used = 0;

  constructor(private readonly sink: Writable) {}

  /** Appends one line given as text; `line` must not contain a newline. */
  write(line: string): void {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    const most = line.length * 3 + 1;
    if (this.used + most > this.batch.length) this.flush();
    if (most > this.batch.length) {
      this.sink.write(`${line}\n`);
      return;
    }
    this.used += this.batch.write(line, this.used);
    this.batch[this.used++] = NEWLINE;
  }

  /** Appends one line given as UTF-8 bytes (copied: `bytes` may be reused once this returns). */
  writeBytes(bytes: Buffer): void {
    if (this.used + bytes.length + 1 > this.batch.length) this.flush();
    if (bytes.length + 1 > this.batch.length) {
      this.sink.write(Buffer.concat([bytes, Buffer.of(NEWLINE)]));
      return;
    }
    this.used += bytes.copy(this.batch, this.used);
    this.batch[this.used++] = NEWLINE;
  }

  /**
   * Appends one line made of a JSON object (`record`, text or UTF-8 bytes, ending with its "}")
   * without that last "}", then `head`, the decimal `number` and `tail`: how a staged record gets
   * its provenance without the object being encoded again.
   */
  writeExtended(record: Buffer | string, head: Buffer, number: number, tail: Buffer): void {
    const recordBytes = typeof record === "string" ? record.length * 3 : record.length;
    const most = recordBytes + head.length + 16 + tail.length + 1;
    if (this.used + most > this.batch.length) this.flush();
    if (most > this.batch.length) {
      const text = typeof record === "string" ? record : record.toString("utf8");
      this.sink.write(`${text.slice(0, -1)}${head.toString("utf8")}${number}${tail.toString("utf8")}\n`);
      return;
    }
    if (typeof record === "string") this.used += this.batch.write(record, this.used) - 1;
    else this.used += record.copy(this.batch, this.used, 0, record.length - 1);
    this.used += head.copy(this.batch, this.used);
    this.used += this.batch.write(String(number), this.used, "latin1");
    this.used += tail.copy(this.batch, this.used);
    this.batch[this.used++] = NEWLINE;
  }

  /** Hands the current batch to the sink (which keeps it: a new one is started). */
  flush(): void {
    if (this.used === 0) return;
    this.sink.write(this.batch.subarray(0, this.used));
    this.batch = Buffer.allocUnsafe(BATCH_BYTES);
    this.used = 0;
  }

  /** Resolves once the sink accepts more; rejects if it fails or closes first. */
  async drained(): Promise<void> {
    const sink = this.sink;
    if (sink.destroyed) throw sink.errored ?? new Error("the output closed before accepting all lines");
    if (!sink.writableNeedDrain) return;
    await new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        sink.off("drain", onDrain);
        sink.off("error", onError);
        sink.off("close", onClose);
      };
      const onDrain = () => {
        cleanup();
        resolve();
      };
      const onError = (error: Error) => {
        cleanup();
        reject(error);
      };
      const onClose = () => {
        cleanup();
        reject(sink.errored ?? new Error("the output closed before accepting all lines"));
      };
      sink.on("drain", onDrain);
      sink.on("error", onError);
      sink.on("close", onClose);
    });
  }
}
