/**
 * Synthetic facility files for the benchmarks and for anyone who wants a large realistic input.
 *
 * Deterministic: record i of a file depends only on the seed and i (each record draws from its
 * own generator, seeded with both), so the same options give the same bytes on every machine,
 * and a file of N facilities is the first N records of any larger file with the same seed.
 * Streaming: records are produced lazily and written in ~64 KiB batches through a stream
 * pipeline that waits for the sink, so memory does not depend on the number of facilities.
 *
 * A share of records (the invalid rate) is broken in one of INVALID_KINDS' ways, each of which
 * the filter-expiring validator must reject; another share of the rest (the repair rate) carries
 * one of REPAIRABLE_KINDS' quirks, which it must keep with a repair or a warning. The summary says
 * how many of each were written.
 */
import { createWriteStream, renameSync, rmSync } from "node:fs";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { dateOfDayNumber, dayNumber, daysInMonth } from "../../core/calendar-date";
import { mixSeeds, Random, WeightedTable } from "./random";
import {
  ACCREDITATION_COUNTS,
  FACILITY_KINDS,
  MONTH_END_SHARE,
  NAME_PARTS,
  STATES_AND_TERRITORIES,
  STREET_SUFFIXES,
  STREETS,
  VALID_UNTIL_YEARS,
  type FacilityKind,
  type StateOrTerritory,
} from "./reference-data";

/** The ways a generated record can be invalid; each is rejected by filter-expiring. */
export const INVALID_KINDS = [
  /** Not JSON: a trailing comma before the closing brace (brackets stay balanced, so arrays still split). */
  "malformed-json",
  /** Valid JSON, but the record is wrapped in an array instead of being an object. */
  "not-an-object",
  /** A required field is absent: facility_name, location, location.city or accreditations. */
  "missing-field",
  /** A field of the wrong JSON type: employee_count "120 staff", services "A, B", zip true, accreditations {}. */
  "wrong-type",
  /** location.state is not a USPS code: "Texas", "XX" or "". */
  "unknown-state",
  /** An accreditation's valid_until is not a real YYYY-MM-DD date: 2026-02-30, 12/31/2026, 2027-13-01. */
  "impossible-date",
  "negative-employee-count",
  /** facility_id is "" or blanks. */
  "blank-facility-id",
] as const;
export type InvalidKind = (typeof INVALID_KINDS)[number];

/** The quirks of a real export that filter-expiring keeps, with a repair or a warning. */
export const REPAIRABLE_KINDS = [
  /** employee_count written as text: "120". */
  "numeric-string-count",
  /** location.state in lower case: "tx". */
  "lowercase-state",
  /** location.zip written as a number: 2115 for "02115". */
  "numeric-zip",
  /** an accreditation's valid_until as a UTC midnight date-time: "2027-01-31T00:00:00Z". */
  "utc-datetime",
  /** location.address null (a warning, not a repair). */
  "null-address",
] as const;
export type RepairableKind = (typeof REPAIRABLE_KINDS)[number];

export type FileFormat = "jsonl" | "array";

export interface GeneratorOptions {
  /** How many records (facilities) to write, valid and invalid together. */
  readonly facilities: number;
  /** Share of records that are invalid, 0 to 1. @default 0 */
  readonly invalidRate?: number;
  /** Share of the valid records with a repairable quirk, 0 to 1. @default 0 */
  readonly repairRate?: number;
  /** @default 1 */
  readonly seed?: number;
}

/** One generated record: its JSON text (one line) and, for an invalid record, how it is broken. */
export interface GeneratedRecord {
  readonly index: number;
  readonly text: string;
  readonly invalidKind?: InvalidKind;
  readonly repairableKind?: RepairableKind;
}

export interface GenerationSummary {
  readonly facilities: number;
  readonly valid: number;
  readonly invalid: number;
  readonly invalidByKind: Readonly<Record<InvalidKind, number>>;
  /** Of the valid, those with a repairable quirk. */
  readonly repairable: number;
  readonly repairableByKind: Readonly<Record<RepairableKind, number>>;
  /** Bytes of JSON written (before gzip). */
  readonly bytes: number;
  readonly format: FileFormat;
  readonly gzip: boolean;
  readonly seed: number;
}

export const DEFAULT_SEED = 1;
const BATCH_BYTES = 64 * 1024;
/** Ids are FAC-<state>-<index>, the index zero-padded to at least this many digits. */
const ID_DIGITS = 8;

const STATE_TABLE = new WeightedTable(STATES_AND_TERRITORIES.map((entry) => [entry, entry.weight] as const));
const KIND_TABLE = new WeightedTable(FACILITY_KINDS);
const ACCREDITATION_COUNT_TABLE = new WeightedTable(ACCREDITATION_COUNTS);
const FIRST_DAY = dayNumber(`${VALID_UNTIL_YEARS.first}-01-01`);
const LAST_DAY = dayNumber(`${VALID_UNTIL_YEARS.last}-12-31`);

interface GeneratedFacility {
  facility_id: string;
  facility_name: string;
  location: { address: string; city: string; state: string; zip: string };
  employee_count: number;
  services: string[];
  labs: { lab_name: string; certifications: string[] }[];
  accreditations: { accreditation_body: string; accreditation_id: string; valid_until: string }[];
}

/** Checks generator options; returns every problem, each naming the value received. */
export function generatorOptionProblems(options: GeneratorOptions): string[] {
  const problems: string[] = [];
  const { facilities, invalidRate = 0, repairRate = 0, seed = DEFAULT_SEED } = options;
  if (!Number.isSafeInteger(facilities) || facilities < 0) {
    problems.push(`facilities must be a whole number, 0 or more (received ${facilities})`);
  }
  if (!(typeof invalidRate === "number" && invalidRate >= 0 && invalidRate <= 1)) {
    problems.push(`invalid rate must be a number from 0 to 1, e.g. 0.01 for 1% (received ${invalidRate})`);
  }
  if (!(typeof repairRate === "number" && repairRate >= 0 && repairRate <= 1)) {
    problems.push(`repair rate must be a number from 0 to 1, e.g. 0.05 for 5% (received ${repairRate})`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    problems.push(`seed must be a whole number from 0 to 4294967295 (received ${seed})`);
  }
  return problems;
}

/** The records of a file, produced one at a time. */
export function* generateRecords(options: GeneratorOptions): Generator<GeneratedRecord, void, undefined> {
  const problems = generatorOptionProblems(options);
  if (problems.length > 0) throw new RangeError(problems.join("; "));
  const invalidRate = options.invalidRate ?? 0;
  const repairRate = options.repairRate ?? 0;
  const seed = options.seed ?? DEFAULT_SEED;
  const idDigits = Math.max(ID_DIGITS, String(Math.max(0, options.facilities - 1)).length);
  for (let index = 0; index < options.facilities; index++) {
    const random = new Random(mixSeeds(seed, index));
    // Drawn first, so a record's facility is the same whatever the invalid rate.
    const broken = random.fraction() < invalidRate;
    const kindTicket = random.uint32();
    const facility = generateFacility(random, index, idDigits);
    // Drawn after the facility, and only when asked for, so files without quirks stay as they were.
    if (!broken && repairRate > 0 && random.fraction() < repairRate) {
      const repairableKind = REPAIRABLE_KINDS[random.uint32() % REPAIRABLE_KINDS.length];
      yield { index, text: addQuirk(facility, repairableKind), repairableKind };
    } else if (!broken) {
      yield { index, text: JSON.stringify(facility) };
    } else {
      const invalidKind = INVALID_KINDS[kindTicket % INVALID_KINDS.length];
      yield { index, text: breakRecord(facility, invalidKind, random), invalidKind };
    }
  }
}

function generateFacility(random: Random, index: number, idDigits: number): GeneratedFacility {
  const where: StateOrTerritory = random.weighted(STATE_TABLE);
  const { city, zip3 } = random.pick(where.places);
  const kind: FacilityKind = random.weighted(KIND_TABLE);
  const namePart = random.chance(0.35) ? city : random.pick(NAME_PARTS);
  const suite = random.chance(0.15) ? `, Suite ${random.int(1, 9) * 100 + random.int(0, 20)}` : "";
  const zip = `${zip3}${String(random.int(0, 99)).padStart(2, "0")}`;
  const services = random.distinct(kind.services, random.int(kind.serviceCount[0], kind.serviceCount[1]));
  const labs = random.distinct(kind.labs, random.int(kind.labCount[0], kind.labCount[1])).map((lab) => ({
    lab_name: lab.name,
    certifications: random.distinct(lab.certifications, random.int(1, lab.certifications.length)),
  }));
  const bodies = random.distinct(kind.bodies, random.weighted(ACCREDITATION_COUNT_TABLE));
  const accreditations = bodies.map((body) => ({
    accreditation_body: body.name,
    accreditation_id: `${body.prefix}-${String(random.int(1, 10 ** body.digits - 1)).padStart(body.digits, "0")}`,
    valid_until: validUntil(random),
  }));
  return {
    facility_id: `FAC-${where.code}-${String(index).padStart(idDigits, "0")}`,
    facility_name: `${namePart} ${random.pick(kind.names)}`,
    location: {
      address: `${random.int(1, 9999)} ${random.pick(STREETS)} ${random.pick(STREET_SUFFIXES)}${suite}`,
      city,
      state: where.code,
      zip: random.chance(0.05) ? `${zip}-${String(random.int(1, 9999)).padStart(4, "0")}` : zip,
    },
    employee_count: employeeCount(random, kind.employees[0], kind.employees[1]),
    services,
    labs,
    accreditations,
  };
}

/** Skewed towards the small end of the range, as staff sizes are: the minimum of two draws. */
function employeeCount(random: Random, min: number, max: number): number {
  return Math.min(random.int(min, max), random.int(min, max));
}

/** A day from the first to the last year, or (MONTH_END_SHARE of the time) the last day of a month. */
function validUntil(random: Random): string {
  if (random.chance(MONTH_END_SHARE)) {
    const year = random.int(VALID_UNTIL_YEARS.first, VALID_UNTIL_YEARS.last);
    const month = random.int(1, 12);
    return `${year}-${String(month).padStart(2, "0")}-${daysInMonth(year, month)}`;
  }
  return dateOfDayNumber(random.int(FIRST_DAY, LAST_DAY));
}

function breakRecord(facility: GeneratedFacility, kind: InvalidKind, random: Random): string {
  const record = facility as unknown as Record<string, unknown>;
  switch (kind) {
    case "malformed-json":
      return `${JSON.stringify(facility).slice(0, -1)},}`;
    case "not-an-object":
      return `[${JSON.stringify(facility)}]`;
    case "missing-field": {
      const field = random.pick(["facility_name", "location", "city", "accreditations"]);
      if (field === "city") delete (facility.location as Partial<GeneratedFacility["location"]>).city;
      else delete record[field];
      break;
    }
    case "wrong-type": {
      const variant = random.int(0, 3);
      if (variant === 0) record.employee_count = `${facility.employee_count} staff`;
      else if (variant === 1) record.services = facility.services.join(", ");
      else if (variant === 2) (facility.location as Record<string, unknown>).zip = true;
      else record.accreditations = {};
      break;
    }
    case "unknown-state":
      facility.location.state = random.pick(["Texas", "XX", ""]);
      break;
    case "impossible-date": {
      if (facility.accreditations.length === 0) {
        facility.accreditations.push({ accreditation_body: "COLA", accreditation_id: "COLA-00001", valid_until: "" });
      }
      const accreditation = random.pick(facility.accreditations);
      const year = random.int(VALID_UNTIL_YEARS.first, VALID_UNTIL_YEARS.last);
      accreditation.valid_until = random.pick([`${year}-02-30`, `12/31/${year}`, `${year}-13-01`, `${year}-6-1`]);
      break;
    }
    case "negative-employee-count":
      facility.employee_count = -Math.max(1, facility.employee_count);
      break;
    case "blank-facility-id":
      facility.facility_id = random.pick(["", "   "]);
      break;
  }
  return JSON.stringify(facility);
}

function addQuirk(facility: GeneratedFacility, kind: RepairableKind): string {
  const record = facility as unknown as Record<string, unknown>;
  const location = facility.location as Record<string, unknown>;
  switch (kind) {
    case "numeric-string-count":
      record.employee_count = String(facility.employee_count);
      break;
    case "lowercase-state":
      location.state = facility.location.state.toLowerCase();
      break;
    case "numeric-zip":
      location.zip = Number(facility.location.zip.slice(0, 5));
      break;
    case "utc-datetime":
      if (facility.accreditations.length > 0) {
        facility.accreditations[0].valid_until = `${facility.accreditations[0].valid_until}T00:00:00Z`;
      } else {
        record.employee_count = String(facility.employee_count); // nothing to date: a count as text instead
      }
      break;
    case "null-address":
      location.address = null;
      break;
  }
  return JSON.stringify(facility);
}

/**
 * Writes records to `sink` as JSON Lines or as one JSON array (one element per line), gzipped if
 * asked, waiting for the sink whenever it is full. Resolves once the sink has finished.
 */
export async function writeRecords(
  records: Iterable<GeneratedRecord>,
  format: FileFormat,
  gzip: boolean,
  sink: Writable,
): Promise<Omit<GenerationSummary, "format" | "gzip" | "seed">> {
  const invalidByKind = Object.fromEntries(INVALID_KINDS.map((kind) => [kind, 0])) as Record<InvalidKind, number>;
  const repairableByKind = Object.fromEntries(REPAIRABLE_KINDS.map((kind) => [kind, 0])) as Record<
    RepairableKind,
    number
  >;
  let repairable = 0;
  let facilities = 0;
  let invalid = 0;
  let bytes = 0;

  function* batches(): Generator<Buffer, void, undefined> {
    let batch = format === "array" ? "[\n" : "";
    for (const record of records) {
      if (format === "array" && facilities > 0) batch += ",\n";
      batch += record.text;
      if (format === "jsonl") batch += "\n";
      facilities++;
      if (record.invalidKind !== undefined) {
        invalid++;
        invalidByKind[record.invalidKind]++;
      } else if (record.repairableKind !== undefined) {
        repairable++;
        repairableByKind[record.repairableKind]++;
      }
      if (batch.length >= BATCH_BYTES) {
        const chunk = Buffer.from(batch, "utf8");
        bytes += chunk.length;
        yield chunk;
        batch = "";
      }
    }
    if (format === "array") batch += facilities > 0 ? "\n]\n" : "]\n";
    if (batch.length > 0) {
      const chunk = Buffer.from(batch, "utf8");
      bytes += chunk.length;
      yield chunk;
    }
  }

  // objectMode false: the source holds at most highWaterMark bytes ahead of the sink.
  const source = Readable.from(batches(), { objectMode: false, highWaterMark: BATCH_BYTES });
  if (gzip) await pipeline(source, createGzip({ level: 6 }), sink);
  else await pipeline(source, sink);
  return { facilities, valid: facilities - invalid, invalid, invalidByKind, repairable, repairableByKind, bytes };
}

export interface FileOptions extends GeneratorOptions {
  /** @default "jsonl" */
  readonly format?: FileFormat;
  /** @default false */
  readonly gzip?: boolean;
}

/**
 * Generates a file. Written to `<out>.partial` and renamed when complete, so an interrupted run
 * never leaves a truncated file under the requested name.
 */
export async function generateFacilityFile(out: string, options: FileOptions): Promise<GenerationSummary> {
  const format = options.format ?? "jsonl";
  const gzip = options.gzip ?? false;
  const partial = `${out}.partial`;
  try {
    const written = await writeRecords(generateRecords(options), format, gzip, createWriteStream(partial));
    renameSync(partial, out);
    return { ...written, format, gzip, seed: options.seed ?? DEFAULT_SEED };
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
}

/** Generates into a stream (stdout, a test's sink); the stream is ended when done. */
export async function generateToStream(sink: Writable, options: FileOptions): Promise<GenerationSummary> {
  const format = options.format ?? "jsonl";
  const gzip = options.gzip ?? false;
  const written = await writeRecords(generateRecords(options), format, gzip, sink);
  return { ...written, format, gzip, seed: options.seed ?? DEFAULT_SEED };
}
