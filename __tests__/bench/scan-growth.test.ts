/**
 * The scan-growth benchmark's core (bench/scan-growth.ts) at a tiny size: the JSON pile grows
 * with every upload, the current table keeps one row per facility (the latest), and the bytes its
 * Parquet file bills stay put. The full-size figures are in bench/README.md.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  columnsReadBy,
  initialRegistry,
  measureScanGrowth,
  updateRegistry,
  UPDATE_SHARE,
  type ScanGrowthResult,
} from "../../bench/scan-growth";

const FACILITIES = 2_000;
let workDir: string;
let result: ScanGrowthResult;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "scan-growth-test-"));
  result = await measureScanGrowth({ facilities: FACILITIES, histories: [1, 3], workDir });
}, 20_000);

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe("the workflow's queries", () => {
  test("read the columns their SQL names, and only those", () => {
    expect(result.queryColumns).toEqual({
      stateCounts: ["facility_id", "location", "accreditations", "retired"],
      facilitySummary: ["facility_id", "facility_name", "employee_count", "services", "accreditations", "retired"],
    });
  });

  test("comments and string literals name no column", () => {
    expect(
      columnsReadBy("-- labs and services\nSELECT facility_id FROM facilities WHERE x = 'labs' -- retired"),
    ).toEqual(["facility_id"]);
  });
});

describe("updates", () => {
  test("change about a tenth of the registry, add a few new ids, and keep ids unique", () => {
    const registry = initialRegistry(1_000, 7);
    const before = [...registry];
    const update = updateRegistry(registry, 2, 7);
    expect(update.lines).toHaveLength(Math.round(1_000 * UPDATE_SHARE));
    expect(update.moved + update.renewed + update.added).toBe(update.lines.length);
    expect(update.added).toBeGreaterThan(0);
    expect(update.moved).toBeGreaterThan(0);
    expect(update.renewed).toBeGreaterThan(0);
    expect(registry).toHaveLength(1_000 + update.added);
    const changed = registry.slice(0, 1_000).filter((text, i) => text !== before[i]);
    expect(changed).toHaveLength(update.lines.length - update.added);
    const ids = registry.map((text) => (JSON.parse(text) as { facility_id: string }).facility_id);
    expect(new Set(ids).size).toBe(ids.length);
    // Deterministic: the same seed and upload make the same update.
    const again = initialRegistry(1_000, 7);
    expect(updateRegistry(again, 2, 7).lines).toEqual(update.lines);
  });
});

describe("1 and 3 uploads of 2,000 facilities", () => {
  test("the current table holds one row per facility_id, each its latest record", () => {
    for (const point of result.points) {
      expect(point.currentRows).toBe(point.registryFacilities);
      expect(point.distinctFacilityIds).toBe(point.currentRows);
      expect(point.matchesRegistry).toBe(true);
    }
    const [one, three] = result.points;
    expect(one.currentRows).toBe(FACILITIES);
    expect(three.currentRows).toBe(FACILITIES + result.updates.added);
  });

  test("the JSON pile grows by each upload's staged bytes", () => {
    const [one, three] = result.points;
    expect(result.stagedBytesByUpload).toHaveLength(3);
    expect(three.pile.bytesPerQuery).toBe(result.stagedBytesByUpload.reduce((a, b) => a + b, 0));
    expect(three.pile.bytesPerRun).toBe(2 * three.pile.bytesPerQuery);
    // Each update is about a tenth of the first upload.
    for (const bytes of result.stagedBytesByUpload.slice(1)) {
      expect(bytes / result.stagedBytesByUpload[0]).toBeGreaterThan(0.08);
      expect(bytes / result.stagedBytesByUpload[0]).toBeLessThan(0.12);
    }
    expect(three.pile.bytesPerRun / one.pile.bytesPerRun).toBeGreaterThan(1.15);
  });

  test("the compacted Iceberg scan stays within a small factor, far below the pile", () => {
    const [one, three] = result.points;
    const growth = three.compacted.bytesPerRun / one.compacted.bytesPerRun;
    expect(growth).toBeGreaterThan(0.9);
    expect(growth).toBeLessThan(1.1);
    for (const point of result.points) {
      const { stateCounts, facilitySummary } = point.compacted.bytesPerQuery;
      expect(point.compacted.bytesPerRun).toBe(stateCounts + facilitySummary);
      // Column pruning: each query reads part of the table, the table is a fraction of the JSON.
      expect(stateCounts).toBeLessThan(point.compacted.allColumnsBytes);
      expect(facilitySummary).toBeLessThan(point.compacted.allColumnsBytes);
      expect(point.compacted.bytesPerRun).toBeLessThan(point.pile.bytesPerRun / 10);
    }
  });

  test("uncompacted, every commit adds a data file and a delete file that each query reads", () => {
    const [one, three] = result.points;
    expect(one.uncompacted).toMatchObject({ dataFiles: 1, deleteFiles: 0, deletedRows: 0, deleteBytes: 0 });
    expect(one.uncompacted.bytesPerRun).toBe(one.compacted.bytesPerRun);
    expect(three.uncompacted).toMatchObject({ dataFiles: 3, deleteFiles: 2 });
    const updated = result.stagedBytesByUpload.length - 1;
    expect(three.uncompacted.deletedRows).toBeGreaterThan(0);
    expect(three.uncompacted.deletedRows).toBeLessThanOrEqual(updated * Math.round(FACILITIES * UPDATE_SHARE * 1.01));
    expect(three.uncompacted.deleteBytes).toBeGreaterThan(0);
    expect(three.uncompacted.bytesPerRun).toBeGreaterThan(three.compacted.bytesPerRun);
  });

  test("leaves no files behind", () => {
    expect(readdirSync(workDir)).toEqual([]);
  });
});
