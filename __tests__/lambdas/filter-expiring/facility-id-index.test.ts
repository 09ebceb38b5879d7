import { FacilityIdLog, type LatestLineIndex } from "../../../lambdas/filter-expiring/facility-id-index";

type IdRecord = readonly [id: string, line: number];

function logOf(records: readonly IdRecord[]): FacilityIdLog {
  const log = new FacilityIdLog();
  for (const [id, line] of records) log.add(id, line);
  return log;
}

/**
 * What pass 2 (filter-facilities.ts) learns: it asks `supersededBy` of every valid record, in the
 * order pass 1 added them. Returns the answers, and each id's latest line as the index implies it:
 * the line of the record told 0 (the one that is not superseded).
 */
function passTwo(
  log: FacilityIdLog,
  records: readonly IdRecord[],
): { index: LatestLineIndex; supersededBy: number[]; latestLine: Record<string, number> } {
  const index = log.latestLines();
  const supersededBy = records.map(([id]) => index.supersededBy(id));
  const latestLine: Record<string, number> = {};
  records.forEach(([id, line], i) => {
    if (supersededBy[i] === 0) latestLine[id] = line;
  });
  return { index, supersededBy, latestLine };
}

describe("FacilityIdLog", () => {
  test("sees no repeat among distinct ids, across growth", () => {
    const log = new FacilityIdLog();
    for (let i = 1; i <= 50_000; i++) log.add(`FAC-${i}`, i);
    expect(log.size).toBe(50_000);
    expect(log.hasRepeats()).toBe(false);
  });

  test("finds a repeat and maps every id to the line of its last record", () => {
    const records = ["A", "B", "A", "C", "A", "B"].map((id, i): IdRecord => [id, i + 1]);
    const log = logOf(records);
    expect(log.hasRepeats()).toBe(true);
    const { index, supersededBy, latestLine } = passTwo(log, records);
    // Every earlier record of A and B is told the line of their last one; C's only record is its latest.
    expect(supersededBy).toEqual([5, 6, 5, 0, 0, 0]);
    expect(latestLine).toEqual({ A: 5, B: 6, C: 4 });
    expect(index.supersededBy("D")).toBe(0); // never added: nothing supersedes it
  });

  test("tells apart ids that differ only slightly", () => {
    const records = ["FAC-1", "FAC-1 ", "fac-1", "FAC-\u0031", "FAC-١"].map((id, i): IdRecord => [id, i + 1]);
    const log = logOf(records);
    // "FAC-\u0031" is "FAC-1": the one real repeat.
    expect(log.hasRepeats()).toBe(true);
    const { supersededBy, latestLine } = passTwo(log, records);
    expect(supersededBy).toEqual([4, 0, 0, 0, 0]);
    expect(latestLine["FAC-1"]).toBe(4);
    expect(latestLine["FAC-1 "]).toBe(2);
  });

  test("tells pass 2 of each valid record, in order, the line of the later record that supersedes it", () => {
    const log = new FacilityIdLog();
    const ids = ["A", "B", "A", "C", "A", "B"];
    ids.forEach((id, i) => log.add(id, i + 1));
    expect(log.hasRepeats()).toBe(true);
    const latest = log.latestLines();
    expect(ids.map((id) => latest.supersededBy(id))).toEqual([5, 6, 5, 0, 0, 0]);
  });

  test("tells apart two records on one line (a JSON array written on one line)", () => {
    const log = new FacilityIdLog();
    [
      ["A", 1],
      ["A", 1],
      ["B", 1],
    ].forEach(([id, line]) => log.add(id as string, line as number));
    const latest = log.latestLines();
    expect(["A", "A", "B"].map((id) => latest.supersededBy(id))).toEqual([1, 0, 0]);
  });

  test("keeps lines far apart and lines shared by several records (deltas of 0, 254, and 255 or more)", () => {
    // Each id is repeated, its latest record after a delta the log stores differently, so the lines
    // pass 2 is told are the ones the log decodes.
    const records: IdRecord[] = [
      ["A", 3],
      ["B", 3], // delta 0
      ["C", 3], // delta 0
      ["A", 258], // delta 255: escaped
      ["C", 513], // delta 255: escaped
      ["D", 514],
      ["B", 100_000], // delta 99,486: escaped
      ["D", 100_000], // delta 0
      ["E", 100_001],
      ["F", 100_255], // delta 254: the largest kept in a byte
      ["F", 100_255],
      ["E", 3_000_000_000 / 2], // escaped, near the top of an Int32
    ];
    const log = logOf(records);
    const { index, supersededBy, latestLine } = passTwo(log, records);
    expect(supersededBy).toEqual([258, 100_000, 513, 0, 0, 100_000, 0, 0, 1.5e9, 100_255, 0, 0]);
    expect(latestLine).toEqual({ A: 258, B: 100_000, C: 513, D: 100_000, E: 1.5e9, F: 100_255 });
    expect(index.supersededBy("G")).toBe(0);
  });

  test("finds repeats across blocks and slices of the hash space, as a Map of every id would", () => {
    // A deterministic mix of unique ids, a few ids repeated far apart, and line gaps of all sizes.
    const log = new FacilityIdLog();
    const added: { id: string; line: number }[] = [];
    let seed = 42;
    const random = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
    let line = 0;
    for (let i = 0; i < 140_000; i++) {
      line += random() < 0.001 ? 300 : Math.floor(random() * 3);
      const id = random() < 0.002 ? `FAC-R-${Math.floor(random() * 50)}` : `FAC-U-${i}`;
      log.add(id, Math.max(line, 1));
      added.push({ id, line: Math.max(line, 1) });
    }
    const lastLine = new Map(added.map(({ id, line }) => [id, line]));
    const remaining = new Map<string, number>();
    for (const { id } of added) remaining.set(id, (remaining.get(id) ?? 0) + 1);
    const expected = added.map(({ id }) => {
      const left = remaining.get(id)! - 1;
      remaining.set(id, left);
      return left > 0 ? lastLine.get(id) : 0;
    });

    expect(log.size).toBe(140_000);
    expect(log.hasRepeats()).toBe(true);
    const { supersededBy, latestLine } = passTwo(
      log,
      added.map(({ id, line }): IdRecord => [id, line]),
    );
    const differences = added
      .map(({ id, line }, i) => ({ id, line, supersededBy: supersededBy[i], expected: expected[i] }))
      .filter(({ supersededBy, expected }) => supersededBy !== expected);
    expect(differences).toEqual([]);
    expect(expected.filter((by) => by !== 0).length).toBeGreaterThan(200); // the test does exercise repeats
    expect(latestLine["FAC-R-7"]).toBe(lastLine.get("FAC-R-7"));
    expect(latestLine[added[123_456].id]).toBe(lastLine.get(added[123_456].id));
    // Every id's latest line, as pass 2 learns it, is the one a Map of every id gives.
    expect(Object.keys(latestLine)).toHaveLength(lastLine.size);
    expect([...lastLine].filter(([id, line]) => latestLine[id] !== line)).toEqual([]);
  });

  test("handles one id repeated throughout the source (a slice larger than the scratch share)", () => {
    const log = new FacilityIdLog();
    for (let i = 1; i <= 150_000; i++) log.add(i % 1000 === 0 ? `FAC-${i}` : "SAME", i);
    expect(log.hasRepeats()).toBe(true);
    const latest = log.latestLines();
    const answers = new Map<number, number>();
    for (let i = 1; i <= 150_000; i++) {
      const by = latest.supersededBy(i % 1000 === 0 ? `FAC-${i}` : "SAME");
      answers.set(by, (answers.get(by) ?? 0) + 1);
    }
    // Every "SAME" but the last (line 149,999) is superseded by it; the 150 distinct ids and the last win.
    expect(Object.fromEntries(answers)).toEqual({ 0: 151, 149_999: 150_000 - 150 - 1 });
  });

  test("sees no repeat in an empty log or a single record", () => {
    const log = new FacilityIdLog();
    expect(log.hasRepeats()).toBe(false);
    log.add("A", 1);
    expect(log.hasRepeats()).toBe(false);
    expect(log.latestLines().supersededBy("A")).toBe(0);
  });
});
