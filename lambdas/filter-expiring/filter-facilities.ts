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
import { FACILITY_COLUMNS } from "../../core/facility-schema";
import { asError } from "../shared/errors";
import { FacilityIdLog, type LatestLineIndex } from "./facility-id-index";
import { RECORD_FIELD, validateFacility, type ValidationProblem } from "./facility-validation";
import { expiryStatus, type ExpiryWindow } from "./expiry-window";
import { inputBytes } from "./input-bytes";
import { LineWriter } from "./line-writer";
import { RecordSplitter, type RecordHandler, type SourceFormat } from "./record-splitter";
import type { Writable } from "node:stream";

/** Where one run writes. Nothing written is visible until commit(); discard() leaves nothing. */
export interface FacilityOutputs {
  /** Valid records with their provenance, canonical JSON Lines (RECORD_COLUMNS). */
  readonly staged: Writable;
  /** One JSON line per rejected record: line, facility_id (or null), reasons, text. */
  readonly rejected: Writable;
  /** One JSON line per facility with an accreditation in the window. */
  readonly expiring: Writable;
  /** Ends the three streams and makes the outputs visible, whole. */
  commit(): Promise<void>;
  /** Drops everything written. */
  discard(reason: Error): Promise<void>;
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

export interface FilterFacilitiesSummary {
  /** Records read: non-blank lines, or array elements. Always valid + rejected. */
  readonly records: number;
  /** Records written to the staged output. */
  readonly valid: number;
  /** Records written to the rejected output, superseded ones included. */
  readonly rejected: number;
  /** Of the rejected, those superseded by a later record with the same facility_id. */
  readonly superseded: number;
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

const MAX_TRACKED_UNKNOWN_FIELDS = 200;
const REPORTED_UNKNOWN_FIELDS = 20;

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
  private rejected = 0;
  private superseded = 0;
  private expiring = 0;
  private expired = 0;
  private unknownFields = 0;
  private readonly unknownFieldCounts = new Map<string, number>();
  private firstRejection: RejectionSummary | undefined;
  private format: SourceFormat | "empty" = "empty";
  private readonly staged: LineWriter;
  /** The provenance fields after a record's own, up to its line number, and what follows the number. */
  private readonly provenanceHead: Buffer;
  private readonly provenanceTail = Buffer.from(',"retired":false}');
  private readonly retirementTail = Buffer.from(',"retired":true}');
  private readonly rejectedLines: LineWriter;
  private readonly expiringLines: LineWriter;
  private outputsOpen = true;

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
      const bytes = inputBytes(source, {
        source: this.options.source,
        maxDecompressedBytes: this.options.maxDecompressedBytes,
      });
      for await (const chunk of bytes) {
        splitter.push(chunk);
        await this.drained();
      }
      splitter.end();
      this.format = splitter.format ?? "empty";
      this.staged.flush();
      this.rejectedLines.flush();
      this.expiringLines.flush();
      this.outputsOpen = false;
      if (mustDiscard()) {
        this.discarded = true;
        await this.outputs.discard(new SecondPassRequired(`${this.options.source} repeats a facility_id`));
      } else {
        await this.outputs.commit();
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
    const unknownFieldCounts = Object.fromEntries(
      [...this.unknownFieldCounts].sort((a, b) => b[1] - a[1]).slice(0, REPORTED_UNKNOWN_FIELDS),
    );
    return {
      records: this.records,
      valid: this.valid,
      rejected: this.rejected,
      superseded: this.superseded,
      expiring: this.expiring,
      expired: this.expired,
      unknownFields: this.unknownFields,
      unknownFieldCounts,
      format: this.format,
      passes,
      firstRejection: this.firstRejection,
    };
  }

  record(line: number, bytes: Buffer): void {
    this.records++;
    if (!isUtf8(bytes)) {
      const reason = {
        field: RECORD_FIELD,
        message: "not valid UTF-8 (the text shows each undecodable byte as U+FFFD)",
      };
      return this.reject(line, null, [reason], bytes.toString("utf8"));
    }
    const text = bytes.toString(); // UTF-8; the no-argument form skips the encoding lookup
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
    if (!result.valid) return this.reject(line, facilityIdOf(parsed), result.problems, text);

    const facility = result.facility;
    if (this.ids instanceof FacilityIdLog) {
      this.ids.add(facility.facility_id, line);
    } else {
      const winner = this.ids.supersededBy(facility.facility_id);
      if (winner !== 0) {
        this.superseded++;
        return this.reject(
          line,
          facility.facility_id,
          [{ field: "facility_id", message: `superseded by line ${winner}` }],
          text,
        );
      }
    }

    this.valid++;
    // The canonical record followed by its provenance. Most records are already canonical:
    // copying their bytes saves encoding the text again.
    const canonical = result.canonicalJson === text ? bytes : result.canonicalJson;
    this.staged.writeExtended(canonical, this.provenanceHead, line, this.provenanceTail);
    if (result.unknownFields.length > 0) this.countUnknownFields(result.unknownFields);
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

  private reject(line: number, facilityId: string | null, reasons: readonly ValidationProblem[], text: string): void {
    this.rejected++;
    this.firstRejection ??= { line, field: reasons[0].field, message: reasons[0].message };
    this.rejectedLines.write(JSON.stringify({ line, facility_id: facilityId, reasons, text }));
  }

  private countUnknownFields(paths: readonly string[]): void {
    this.unknownFields += paths.length;
    for (const pattern of paths) {
      const count = this.unknownFieldCounts.get(pattern);
      if (count !== undefined) this.unknownFieldCounts.set(pattern, count + 1);
      else if (this.unknownFieldCounts.size < MAX_TRACKED_UNKNOWN_FIELDS) this.unknownFieldCounts.set(pattern, 1);
    }
  }

  private async drained(): Promise<void> {
    await this.staged.drained();
    await this.rejectedLines.drained();
    await this.expiringLines.drained();
  }
}

/** The facility columns other than facility_id, as a retirement stages them: no data. */
const EMPTY_FACILITY: Readonly<Record<string, null>> = Object.fromEntries(
  FACILITY_COLUMNS.filter((column) => column.name !== "facility_id").map((column) => [column.name, null]),
);

function facilityIdOf(parsed: unknown): string | null {
  if (typeof parsed !== "object" || parsed === null) return null;
  const id = (parsed as { facility_id?: unknown }).facility_id;
  return typeof id === "string" ? id : null;
}
