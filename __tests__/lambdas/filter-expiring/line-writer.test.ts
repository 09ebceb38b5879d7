import { Writable } from "node:stream";
import { LineWriter } from "../../../lambdas/filter-expiring/line-writer";

function collector() {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  return { sink, text: () => Buffer.concat(chunks).toString("utf8"), writes: () => chunks.length };
}

describe("LineWriter", () => {
  test("batches lines, text and bytes alike, and keeps multi-byte characters whole", () => {
    const { sink, text, writes } = collector();
    const writer = new LineWriter(sink);
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const line = `{"i":${i},"name":"Clínica São José ${"€".repeat(i % 7)} 🏥"}`;
      lines.push(line);
      if (i % 2 === 0) writer.write(line);
      else writer.writeBytes(Buffer.from(line, "utf8"));
    }
    writer.flush();
    expect(text()).toBe(lines.map((line) => `${line}\n`).join(""));
    expect(writes()).toBeLessThan(20); // about 64 KiB per write, not one per line
  });

  test("writes a line longer than a batch on its own", () => {
    const { sink, text } = collector();
    const writer = new LineWriter(sink);
    const long = "x".repeat(200_000);
    writer.write("a");
    writer.write(long);
    writer.writeBytes(Buffer.from(long));
    writer.write("b");
    writer.flush();
    expect(text()).toBe(`a\n${long}\n${long}\nb\n`);
  });

  test("writeExtended appends head, number and tail in place of an object's closing brace, text or bytes", () => {
    const { sink, text } = collector();
    const writer = new LineWriter(sink);
    const head = Buffer.from(',"source":"é","line":');
    const tail = Buffer.from(',"retired":false}');
    writer.writeExtended('{"id":"ü"}', head, 7, tail);
    writer.writeExtended(Buffer.from('{"id":"b"}'), head, 1234567, tail);
    const long = `{"x":"${"y".repeat(200_000)}"}`;
    writer.writeExtended(long, head, 3, tail);
    writer.flush();
    const lines = text().split("\n");
    expect(lines.slice(0, 2).map((line) => JSON.parse(line))).toEqual([
      { id: "ü", source: "é", line: 7, retired: false },
      { id: "b", source: "é", line: 1234567, retired: false },
    ]);
    expect(JSON.parse(lines[2])).toEqual({ x: "y".repeat(200_000), source: "é", line: 3, retired: false });
    expect(lines[3]).toBe("");
  });

  test("drained() fails when the output is destroyed", async () => {
    const sink = new Writable({ highWaterMark: 1, write: () => undefined }); // never calls back
    const writer = new LineWriter(sink);
    writer.write("line");
    writer.flush();
    const waiting = writer.drained();
    sink.destroy(new Error("upload failed"));
    await expect(waiting).rejects.toThrow("upload failed");
    await expect(writer.drained()).rejects.toThrow("upload failed");
  });
});
