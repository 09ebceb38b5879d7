/**
 * The filter-expiring core: from the bytes of one source object to the three outputs and the
 * counts, with no AWS in sight. The handler plugs in S3; a benchmark or the tests plug in files.
 *
 * Memory stays bounded whatever the source's size: bytes stream through (input-bytes), are cut
 * into records without parsing (record-splitter), each record is parsed, validated and written
 * on its own, and outputs stream out in batches with backpressure (line-writer). The only state
 * that grows with the source is the log of facility_ids (facility-id-index): about 10 bytes per
 * valid record at its peak, 10 MB for a million.
 *
 * Repeated facility_ids (the later valid record wins, the earlier ones are rejected as
 * "superseded by line N") cannot be settled in one streaming pass: when a record is written, a
 * later record with its id may still come. Buffering the records until the end would make memory
 * grow with the source, spilling them to /tmp would need ephemeral storage as large as the
 * source. Instead:
 *   pass 1 writes the outputs as if no id repeated, and logs each valid record's id as a 64-bit
 *          hash and its line (FacilityIdLog, 9 bytes per record). At its end, sorting the
 *          hashes (a slice at a time) tells whether any id repeated. Most sources end here: one
 *          read, no spill.
 *   If one did, pass 1's outputs are discarded (an aborted upload leaves nothing) and
 *   pass 2 reads the source again (the handler pins the version with the first read's ETag) and
 *          writes the outputs knowing, for every repeated id, how many valid records have it and
 *          the line of the last one, which wins.
 * A source with repeated ids thus costs a second read (and pass 1's uploads); one without costs
 * nothing extra, which is why repeats are not looked up record by record (a hash-table probe per
 * record cost about 8% of the throughput) but found by one sort at the end.
 * Only valid records take part: an invalid record is rejected for its own reasons and does not
 * supersede a valid earlier record with the same id (which would lose the facility altogether).
 */
import { isUtf8 } from "node:buffer";
import { daysBetween, isCalendarDate } from "../../core/calendar-date";
import { FACILITY_COLUMNS } from "../../core/facility-schema";
import { asError } from "../shared/errors";
import { FacilityIdLog, type LatestLineIndex } from "./facility-id-index";
import {
  RECORD_FIELD,
  validateFacility,
  type AppliedRepair,
  type ValidationProblem,
  type ValidationWarning,
} from "./facility-validation";
import { expiresWithin, expiryStatus, type ExpiryWindow } from "./expiry-window";
import { inputBytes } from "./input-bytes";
import { LineWriter } from "./line-writer";
import { RecordSplitter, type RecordHandler, type SourceFormat } from "./record-splitter";
import { WRONG_FILE_HEAD_BYTES, decodedBytes, windows1252Hint, wrongFileHint } from "./source-encoding";
import type { Writable } from "node:stream";

/** Where one run writes. Nothing written is visible until commit(); discard() leaves nothing. */
export interface FacilityOutputs {
  /** Valid records with their provenance, canonical JSON Lines (RECORD_COLUMNS). */
  readonly staged: Writable;
  /**
   * One JSON line per rejected record: line, facility_id (or null), reasons, text, and
   * expiring_accreditations when it still shows an accreditation inside the window.
   */
  readonly rejected: Writable;
  /** One JSON line per kept record that was repaired or has warnings: line, facility_id, repairs, warnings. */
  readonly quality: Writable;
  /** One JSON line per facility with an accreditation in the window. */
  readonly expiring: Writable;
  /**
   * Ends the streams and makes the outputs visible, whole. With `kept: false` (a source past
   * maxRejectedShare) the outputs of the kept records, staged and expiring, are dropped, and only
   * rejected and quality become visible: a failed upload publishes no facility.
   */
  commit(options?: { readonly kept?: boolean }): Promise<void>;
  /** Drops everything written. */
  discard(reason: Error): Promise<void>;
}

/** The outputs, in the order the handler names their keys. */
export const OUTPUT_NAMES = ["staged", "rejected", "quality", "expiring"] as const;
export type OutputName = (typeof OUTPUT_NAMES)[number];
/** What commit({ kept: false }) drops: the outputs that hold kept records. */
export const KEPT_RECORD_OUTPUTS: readonly OutputName[] = ["staged", "expiring"];

/**
 * Outputs over plain Writables (files, or sinks that count bytes): commit ends them (destroying
 * the staged one when it is dropped), discard destroys them all.
 */
export function writableOutputs(sinks: Readonly<Record<OutputName, Writable>>): FacilityOutputs {
  const ended = (sink: Writable) =>
    new Promise<void>((resolve, reject) => {
      sink.once("error", reject);
      sink.end(() => resolve());
    });
  return {
    ...sinks,
    async commit(options = {}) {
      const dropped = new Set(options.kept === false ? KEPT_RECORD_OUTPUTS : []);
      for (const name of dropped) sinks[name].destroy();
      await Promise.all(OUTPUT_NAMES.filter((name) => !dropped.has(name)).map((name) => ended(sinks[name])));
    },
    async discard() {
      for (const name of OUTPUT_NAMES) sinks[name].destroy();
    },
  };
}

export type SourceBytes = AsyncIterable<Buffer | Uint8Array | string>;

export interface FilterFacilitiesOptions {
  /** Names the source in messages (the object key). */
  readonly source: string;
  readonly window: ExpiryWindow;
  /** Longest record accepted, in bytes; longer ones are rejected without being parsed. */
  readonly maxLineBytes: number;
  /** The most bytes the source may hold once decompressed. */
  readonly maxDecompressedBytes: number;
  /** Where the records come from, appended to each staged record (PROVENANCE_COLUMNS). */
  readonly provenance: Provenance;
  /**
   * The largest share of the records that may be rejected as invalid (superseded ones do not
   * count), a fraction from 0 to 1. Past it the staged and expiring outputs are dropped (nothing
   * can be applied), rejected and quality are committed, and the summary says `rejectedShareExceeded`.
   * @default 1 (never)
   */
  readonly maxRejectedShare?: number;
  /**
   * "retirements": each record is `{"facility_id": "..."}` (other fields ignored) and is staged as a
   * retirement (retired = true, no facility data), for a source under raw/retirements/.
   * @default "facilities"
   */
  readonly records?: "facilities" | "retirements";
  /** Opens the source from its first byte (a Node Readable will do). Called again only for a second pass. */
  readonly openSource: () => SourceBytes | Promise<SourceBytes>;
  /** Opens a fresh set of outputs; called once per pass that writes. */
  readonly openOutputs: () => FacilityOutputs | Promise<FacilityOutputs>;
}

/** The provenance of one source object version; source_line and retired (false) are added per record. */
export interface Provenance {
  readonly source_key: string;
  readonly source_version: string;
  /** ISO 8601 UTC with milliseconds. */
  readonly event_time: string;
  /** 32 hex digits. */
  readonly sequencer: string;
}

export interface RejectionSummary {
  readonly line: number;
  readonly field: string;
  readonly message: string;
}

/** A rejected record that still shows a facility_id and an accreditation inside the window. */
export interface RejectedExpiring {
  readonly line: number;
  readonly facility_id: string;
  /** Its soonest accreditation inside the window. */
  readonly accreditation_id: string | null;
  readonly valid_until: string;
  readonly days_until_expiry: number;
}

export interface FilterFacilitiesSummary {
  /** Records read: non-blank lines, or array elements. Always valid + rejected. */
  readonly records: number;
  /** Records written to the staged output. */
  readonly valid: number;
  /** Of the valid, records kept with at least one repair. */
  readonly repaired: number;
  /** Of the valid, records kept with at least one warning (an optional field null or missing). */
  readonly warnings: number;
  /** Records written to the rejected output, superseded ones included. */
  readonly rejected: number;
  /** Of the rejected, those superseded by a later record with the same facility_id. */
  readonly superseded: number;
  /** Of the rejected (not superseded), those that show a facility_id and an accreditation inside the window. */
  readonly rejectedExpiring: number;
  /** The first of them (at most REPORTED_REJECTED_EXPIRING), in line order. */
  readonly rejectedExpiringRecords: readonly RejectedExpiring[];
  /** Rejection reasons ("field: rule", indices as []) and how many records had each, most frequent first, at most 20. */
  readonly reasonCounts: Readonly<Record<string, number>>;
  /** Repairs ("field: repair") and how many records had each, most frequent first, at most 20. */
  readonly repairCounts: Readonly<Record<string, number>>;
  /** Warnings ("field: message") and how many records had each, most frequent first, at most 20. */
  readonly warningCounts: Readonly<Record<string, number>>;
  /** More than maxRejectedShare of the records were invalid: the staged and expiring outputs were dropped. */
  readonly rejectedShareExceeded: boolean;
  /**
   * When the source is plainly not JSON (a CSV export, a workbook, Windows-1252 text), what it
   * looks like and how to export it right (source-encoding.ts), for the failure's message.
   */
  readonly wrongFileHint?: string;
  /** Valid facilities with at least one accreditation in the window. */
  readonly expiring: number;
  /** Valid facilities whose accreditations (one or more) all expired before the as-of date. */
  readonly expired: number;
  /** Fields dropped from staged records because the schema does not know them (occurrences). */
  readonly unknownFields: number;
  /** The most frequent unknown field paths ("labs[].extra") and their counts, at most 20. */
  readonly unknownFieldCounts: Readonly<Record<string, number>>;
  readonly format: SourceFormat | "empty";
  /** 2 when a repeated facility_id required reading the source twice. */
  readonly passes: 1 | 2;
  /** The first rejected record's first problem, for error messages. */
  readonly firstRejection?: RejectionSummary;
}

/** Thrown into pass 1's outputs when they are discarded for a second pass; never escapes. */
class SecondPassRequired extends Error {
  override readonly name = "SecondPassRequired";
}

/** Rejected records that still show an expiring accreditation: how many the summary names. */
export const REPORTED_REJECTED_EXPIRING = 20;

/**
 * Counts per key (a field pattern, a reason), tracking at most 200 distinct keys: a source with a
 * different unknown field on every line must not grow memory with it.
 */
class TopCounts {
  private readonly counts = new Map<string, number>();

  add(key: string): void {
    const count = this.counts.get(key);
    if (count !== undefined) this.counts.set(key, count + 1);
    else if (this.counts.size < 200) this.counts.set(key, 1);
  }

  /** The 20 most frequent, most frequent first. */
  top(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort((a, b) => b[1] - a[1]).slice(0, 20));
  }
}

/** "accreditations[2].valid_until" -> "accreditations[].valid_until": the field, whatever the index. */
const fieldPattern = (field: string) => field.replace(/\[\d+\]/g, "[]");

/**
 * A reason without what varies between records (the value received, a line or byte count, not
 * the 8 of UTF-8):
 * "location.state: expected a two-letter US state or territory code such as "TX"".
 */
export function reasonKey(reason: ValidationProblem): string {
  const rule = reason.message
    .split(/, received |: |\(/)[0]
    .replace(/(?<![A-Za-z-])\d+/g, "N")
    .trim();
  return `${fieldPattern(reason.field)}: ${rule}`;
}

/**
 * Reads one source, validates every record, and writes the staged, rejected and expiring
 * outputs (committed together at the end; discarded on any error). Returns the counts.
 */
export async function filterFacilities(options: FilterFacilitiesOptions): Promise<FilterFacilitiesSummary> {
  const ids = new FacilityIdLog();
  const first = new Pass(options, await options.openOutputs(), ids);
  await first.run(await first.openSource(), () => ids.hasRepeats());
  if (!first.discarded) return first.summary(1);

  const second = new Pass(options, await options.openOutputs(), ids.latestLines());
  await second.run(await second.openSource(), () => false);
  return second.summary(2);
}

class Pass implements RecordHandler {
  /** Pass 1 found repeated ids and discarded its outputs. */
  discarded = false;
  private records = 0;
  private valid = 0;
  private repaired = 0;
  private warned = 0;
  private rejected = 0;
  private superseded = 0;
  private rejectedExpiring = 0;
  private readonly rejectedExpiringRecords: RejectedExpiring[] = [];
  private expiring = 0;
  private expired = 0;
  private unknownFields = 0;
  private readonly unknownFieldCounts = new TopCounts();
  private readonly reasonCounts = new TopCounts();
  private readonly repairCounts = new TopCounts();
  private readonly warningCounts = new TopCounts();
  private firstRejection: RejectionSummary | undefined;
  private format: SourceFormat | "empty" = "empty";
  private readonly staged: LineWriter;
  /** The provenance fields after a record's own, up to its line number, and what follows the number. */
  private readonly provenanceHead: Buffer;
  private readonly provenanceTail = Buffer.from(',"retired":false}');
  private readonly retirementTail = Buffer.from(',"retired":true}');
  private readonly rejectedLines: LineWriter;
  private readonly qualityLines: LineWriter;
  private readonly expiringLines: LineWriter;
  private outputsOpen = true;
  private rejectedShareExceeded = false;
  /** What the source's first bytes look like when it is plainly not JSON (a CSV, a workbook). */
  private wrongFileHint: string | undefined;

  /**
   * @param ids pass 1: the log to add each valid record's id to; pass 2: the repeated ids and
   *   the line of each one's winning record.
   */
  constructor(
    private readonly options: FilterFacilitiesOptions,
    private readonly outputs: FacilityOutputs,
    private readonly ids: FacilityIdLog | LatestLineIndex,
  ) {
    this.staged = new LineWriter(outputs.staged);
    const { source_key, source_version, event_time, sequencer } = options.provenance;
    this.provenanceHead = Buffer.from(
      `,${JSON.stringify({ source_key, source_version, event_time, sequencer }).slice(1, -1)},"source_line":`,
    );
    this.rejectedLines = new LineWriter(outputs.rejected);
    this.qualityLines = new LineWriter(outputs.quality);
    this.expiringLines = new LineWriter(outputs.expiring);
  }

  /** Opens the source; if it cannot be opened, the uploads already started are discarded. */
  async openSource(): Promise<SourceBytes> {
    try {
      return await this.options.openSource();
    } catch (error) {
      this.outputsOpen = false;
      await this.outputs.discard(asError(error));
      throw error;
    }
  }

  /** Reads the source through; commits the outputs unless `mustDiscard()` says otherwise at the end. */
  async run(source: SourceBytes, mustDiscard: () => boolean): Promise<void> {
    try {
      const splitter = new RecordSplitter(this, {
        source: this.options.source,
        maxRecordBytes: this.options.maxLineBytes,
      });
      // Gunzipped first (the size cap counts the bytes as stored), then UTF-16 transcoded to UTF-8.
      const bytes = decodedBytes(
        inputBytes(source, {
          source: this.options.source,
          maxDecompressedBytes: this.options.maxDecompressedBytes,
        }),
        { source: this.options.source },
      );
      const head: Buffer[] = [];
      let headBytes = 0;
      for await (const chunk of bytes) {
        if (headBytes < WRONG_FILE_HEAD_BYTES) {
          head.push(chunk.subarray(0, WRONG_FILE_HEAD_BYTES - headBytes));
          headBytes += head[head.length - 1].length;
        }
        splitter.push(chunk);
        await this.drained();
      }
      this.wrongFileHint = wrongFileHint(Buffer.concat(head));
      splitter.end();
      this.format = splitter.format ?? "empty";
      this.staged.flush();
      this.rejectedLines.flush();
      this.qualityLines.flush();
      this.expiringLines.flush();
      this.outputsOpen = false;
      if (mustDiscard()) {
        this.discarded = true;
        await this.outputs.discard(new SecondPassRequired(`${this.options.source} repeats a facility_id`));
      } else {
        const invalid = this.rejected - this.superseded;
        this.rejectedShareExceeded = this.records > 0 && invalid / this.records > (this.options.maxRejectedShare ?? 1);
        await this.outputs.commit({ kept: !this.rejectedShareExceeded });
      }
    } catch (error) {
      if (this.outputsOpen) {
        this.outputsOpen = false;
        await this.outputs.discard(asError(error));
      }
      throw error;
    }
  }

  summary(passes: 1 | 2): FilterFacilitiesSummary {
    return {
      records: this.records,
      valid: this.valid,
      repaired: this.repaired,
      warnings: this.warned,
      rejected: this.rejected,
      superseded: this.superseded,
      rejectedExpiring: this.rejectedExpiring,
      rejectedExpiringRecords: this.rejectedExpiringRecords,
      reasonCounts: this.reasonCounts.top(),
      repairCounts: this.repairCounts.top(),
      warningCounts: this.warningCounts.top(),
      rejectedShareExceeded: this.rejectedShareExceeded,
      wrongFileHint: this.wrongFileHint,
      expiring: this.expiring,
      expired: this.expired,
      unknownFields: this.unknownFields,
      unknownFieldCounts: this.unknownFieldCounts.top(),
      format: this.format,
      passes,
      firstRejection: this.firstRejection,
    };
  }

  record(line: number, bytes: Buffer): void {
    this.records++;
    const text = bytes.toString(); // UTF-8; the no-argument form skips the encoding lookup
    // Decoding turns every invalid sequence into U+FFFD: without one, the bytes were UTF-8, and
    // the full check runs only for the rare line that has one (written as such, or not UTF-8).
    if (text.includes("\uFFFD") && !isUtf8(bytes)) {
      const hint = windows1252Hint(bytes);
      const reason = {
        field: RECORD_FIELD,
        message: `not valid UTF-8 (the text shows each undecodable byte as U+FFFD)${hint === undefined ? "" : `; ${hint}`}`,
      };
      return this.reject(line, null, [reason], text);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      return this.reject(
        line,
        null,
        [{ field: RECORD_FIELD, message: `not valid JSON: ${(error as Error).message}` }],
        text,
      );
    }
    if (this.options.records === "retirements") return this.retirement(line, parsed, text);
    const result = validateFacility(parsed, text);
    if (!result.valid) return this.reject(line, facilityIdOf(parsed), result.problems, text, { parsed });

    const facility = result.facility;
    if (this.ids instanceof FacilityIdLog) {
      this.ids.add(facility.facility_id, line);
    } else {
      const winner = this.ids.supersededBy(facility.facility_id);
      if (winner !== 0) {
        this.superseded++;
        // Not a problem of the record, so not counted against maxRejectedShare nor flagged as expiring.
        return this.reject(
          line,
          facility.facility_id,
          [{ field: "facility_id", message: `superseded by line ${winner}` }],
          text,
          { superseded: true },
        );
      }
    }

    this.valid++;
    // The canonical record followed by its provenance. Most records are already canonical:
    // copying their bytes saves encoding the text again.
    const canonical = result.canonicalJson === text ? bytes : result.canonicalJson;
    this.staged.writeExtended(canonical, this.provenanceHead, line, this.provenanceTail);
    if (result.unknownFields.length > 0) this.countUnknownFields(result.unknownFields);
    if (result.repairs.length > 0 || result.warnings.length > 0) {
      this.noteQuality(line, facility.facility_id, result.repairs, result.warnings);
    }
    const status = expiryStatus(facility, this.options.window);
    if (status.kind === "expiring") {
      this.expiring++;
      this.expiringLines.write(JSON.stringify(status.facility));
    } else if (status.kind === "expired") {
      this.expired++;
    }
  }

  /**
   * A line of a retirements file: staged with the facility's id only, retired = true. Repeats
   * need no second pass: the MERGE keeps one retirement per facility.
   */
  private retirement(line: number, parsed: unknown, text: string): void {
    const id = facilityIdOf(parsed);
    if (id === null || id.trim() === "") {
      const message = `expected {"facility_id": "..."} with a non-empty facility_id, received ${text.slice(0, 200)}`;
      return this.reject(line, null, [{ field: "facility_id", message }], text);
    }
    this.valid++;
    const record = JSON.stringify({ facility_id: id, ...EMPTY_FACILITY });
    this.staged.writeExtended(record, this.provenanceHead, line, this.retirementTail);
  }

  oversize(line: number, byteLength: number, head: Buffer): void {
    this.records++;
    const message =
      `record is ${byteLength} bytes, more than MAX_LINE_BYTES (${this.options.maxLineBytes}); not parsed. ` +
      `The text holds its first ${head.length} bytes`;
    this.reject(line, null, [{ field: RECORD_FIELD, message }], head.toString("utf8"));
  }

  /**
   * Writes a rejected record. `parsed` is the record as far as it could be read: when it still
   * shows a facility_id and accreditations inside the window, the line lists them
   * (expiring_accreditations) and the record is counted as rejectedExpiring. A superseded record
   * (a later one with its id wins) has no problem of its own: its reason is not counted.
   */
  private reject(
    line: number,
    facilityId: string | null,
    reasons: readonly ValidationProblem[],
    text: string,
    { parsed, superseded = false }: { readonly parsed?: unknown; readonly superseded?: boolean } = {},
  ): void {
    this.rejected++;
    this.firstRejection ??= { line, field: reasons[0].field, message: reasons[0].message };
    if (!superseded) for (const reason of new Set(reasons.map(reasonKey))) this.reasonCounts.add(reason);
    const expiring =
      facilityId === null || facilityId.trim() === "" ? [] : readableExpiring(parsed, this.options.window);
    if (expiring.length === 0) {
      this.rejectedLines.write(JSON.stringify({ line, facility_id: facilityId, reasons, text }));
      return;
    }
    this.rejectedExpiring++;
    if (this.rejectedExpiringRecords.length < REPORTED_REJECTED_EXPIRING) {
      const soonest = expiring.reduce((a, b) => (b.days_until_expiry < a.days_until_expiry ? b : a));
      this.rejectedExpiringRecords.push({ line, facility_id: facilityId!.trim(), ...soonest });
    }
    this.rejectedLines.write(
      JSON.stringify({ line, facility_id: facilityId, reasons, text, expiring_accreditations: expiring }),
    );
  }

  /** A kept record's repairs and warnings: one quality line, and the counts. */
  private noteQuality(
    line: number,
    facilityId: string,
    repairs: readonly AppliedRepair[],
    warnings: readonly ValidationWarning[],
  ): void {
    if (repairs.length > 0) this.repaired++;
    if (warnings.length > 0) this.warned++;
    for (const key of new Set(repairs.map((r) => `${fieldPattern(r.field)}: ${r.repairs.join(", ")}`))) {
      this.repairCounts.add(key);
    }
    for (const key of new Set(warnings.map((w) => `${fieldPattern(w.field)}: ${w.message}`))) {
      this.warningCounts.add(key);
    }
    this.qualityLines.write(JSON.stringify({ line, facility_id: facilityId, repairs, warnings }));
  }

  private countUnknownFields(paths: readonly string[]): void {
    this.unknownFields += paths.length;
    for (const pattern of paths) this.unknownFieldCounts.add(pattern);
  }

  private async drained(): Promise<void> {
    await this.staged.drained();
    await this.rejectedLines.drained();
    await this.qualityLines.drained();
    await this.expiringLines.drained();
  }
}

/** The facility columns other than facility_id, as a retirement stages them: no data. */
const EMPTY_FACILITY: Readonly<Record<string, null>> = Object.fromEntries(
  FACILITY_COLUMNS.filter((column) => column.name !== "facility_id").map((column) => [column.name, null]),
);

/**
 * The accreditations of a rejected record that can still be read and fall inside the window: an
 * array element that is an object with a calendar-date valid_until (a date-time the validator
 * could repair has been repaired in place by then). Empty when there are none.
 */
function readableExpiring(
  parsed: unknown,
  window: ExpiryWindow,
): { accreditation_id: string | null; valid_until: string; days_until_expiry: number }[] {
  const accreditations = (parsed as { accreditations?: unknown } | null)?.accreditations;
  if (typeof parsed !== "object" || !Array.isArray(accreditations)) return [];
  const found = [];
  for (const accreditation of accreditations as unknown[]) {
    if (typeof accreditation !== "object" || accreditation === null) continue;
    const { accreditation_id: id, valid_until: validUntil } = accreditation as Record<string, unknown>;
    if (typeof validUntil !== "string" || !isCalendarDate(validUntil) || !expiresWithin(validUntil, window)) continue;
    found.push({
      accreditation_id: typeof id === "string" ? id : null,
      valid_until: validUntil,
      days_until_expiry: daysBetween(window.asOf, validUntil),
    });
  }
  return found;
}

function facilityIdOf(parsed: unknown): string | null {
  if (typeof parsed !== "object" || parsed === null) return null;
  const id = (parsed as { facility_id?: unknown }).facility_id;
  return typeof id === "string" ? id : null;
}
