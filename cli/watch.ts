/**
 * Watching a drop folder (`facility-pipeline --watch DIR`): which files are handed on, and when.
 *
 * Rules:
 * - Hidden and partial files are never processed: dot-files (which include rsync's `.name.XXXXXX`
 *   temporary files), `*.tmp`, `*.part`, `*.partial`, `*.crdownload`, `*.download`, `*.filepart`,
 *   `*.swp`, editor backups ending in `~` and Office lock files `~$name` (see isIgnoredName). So are
 *   subdirectories and anything that is not a regular file (a FIFO would block the reader). Each such
 *   name is logged once while it is present.
 * - A file is complete once its size AND modification time have not changed for `settleMs`. Size
 *   alone is not enough: a writer that pauses, or rewrites a file in place, leaves the size still
 *   for a while; every write moves the mtime, and on filesystems with coarse mtimes (FAT: 2 s) the
 *   size still catches an append. A writer that pauses longer than `settleMs` cannot be told from a
 *   finished one: whoever can should write under a partial name and rename when done.
 * - The folder is scanned every `pollMs` with readdir + stat, and that scan is the source of truth.
 *   fs.watch only wakes the scan early: it misses events on network and container filesystems, can
 *   coalesce or drop them under load, and can fail outright (inotify limits).
 * - Complete files are handed to onFile one at a time, in the order they became complete. A file is
 *   processed again when it is dropped again with different content: its size or mtime differ from
 *   when it was processed, and the SHA-256 of its bytes (computed just before processing) differs
 *   too, so a touch, or a re-drop of the same bytes, is logged as unchanged and skipped. What was
 *   processed is remembered by name for as long as the watcher runs, also after the file is deleted.
 * - Files already present at start are processed (existing: "process") or left alone until their
 *   size or mtime change (existing: "skip").
 * - A file deleted before it is complete is forgotten without a word. An error thrown by onFile is
 *   logged with the file's path, and watching goes on; the file is tried again only once it changes.
 * - Aborting the signal stops the scans and fs.watch at once; the promise of watchFolder resolves
 *   once the file being processed, if any, is done. Files waiting their turn are not processed.
 */
import { createHash } from "node:crypto";
import { createReadStream, watch, type FSWatcher, type Stats } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { formatDuration } from "./output";

export interface WatchOptions {
  /** The drop folder. */
  readonly dir: string;
  /** A file is complete once its size and mtime have not changed for this long. @default 2000 */
  readonly settleMs?: number;
  /** How often the folder is scanned (fs.watch events also trigger a scan). @default 500 */
  readonly pollMs?: number;
  /** Files present when watching starts: "process" them or "skip" them. @default "process" */
  readonly existing?: "process" | "skip";
  /** Stops watching; the promise of watchFolder resolves after the file being processed is done. */
  readonly signal: AbortSignal;
  /** Lines for a person (stderr). */
  readonly log: (line: string) => void;
}

export const DEFAULT_SETTLE_MS = 2000;
export const DEFAULT_POLL_MS = 500;

/** Extensions (lower case) of files still being written by a browser, downloader, editor or copier. */
const PARTIAL_EXTENSIONS = [".tmp", ".part", ".partial", ".crdownload", ".download", ".filepart", ".swp"];

/** Whether a name is a partial or hidden file that must never be processed. */
export function isIgnoredName(name: string): boolean {
  if (name === "" || name.startsWith(".") || name.endsWith("~") || name.startsWith("~$")) return true;
  const lower = name.toLowerCase();
  return PARTIAL_EXTENSIONS.some((extension) => lower.endsWith(extension));
}

/** Calls onFile once per complete file, one at a time, in the order files became complete. */
export async function watchFolder(options: WatchOptions, onFile: (file: string) => Promise<void>): Promise<void> {
  const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  if (!Number.isFinite(settleMs) || settleMs < 0) throw new RangeError(`settleMs must be >= 0, got ${settleMs}`);
  if (!Number.isFinite(pollMs) || pollMs <= 0) throw new RangeError(`pollMs must be > 0, got ${pollMs}`);
  if (options.existing !== undefined && options.existing !== "process" && options.existing !== "skip")
    throw new RangeError(`existing must be "process" or "skip", got ${String(options.existing)}`);
  try {
    const stats = await stat(options.dir);
    if (!stats.isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
    await readdir(options.dir);
  } catch (error) {
    throw new Error(`Cannot watch ${options.dir}: ${describeFolderError(error)}`, { cause: error });
  }
  if (options.signal.aborted) return;
  await new FolderWatcher(options, settleMs, pollMs, onFile).run();
}

/** Size and mtime: what changes whenever a file is written. */
interface Fingerprint {
  readonly size: number;
  readonly mtimeMs: number;
}

/** A file seen but not yet complete: its fingerprint, and since when (performance.now()) it has not changed. */
interface Pending {
  fingerprint: Fingerprint;
  since: number;
}

/** A file handed to onFile (or found unreadable): its fingerprint and content hash at the time. */
interface Processed {
  readonly fingerprint: Fingerprint;
  readonly sha256?: string;
}

interface Completed {
  readonly name: string;
  readonly fingerprint: Fingerprint;
  readonly since: number;
}

/** Lets a burst of fs.watch events (one write makes several) end in one scan. */
const WAKE_DELAY_MS = 20;
/** The shortest wait between scans, whatever the deadlines. */
const MIN_DELAY_MS = 5;

class FolderWatcher {
  private readonly dir: string;
  private readonly log: (line: string) => void;
  private readonly pending = new Map<string, Pending>();
  /** Files present at start with existing "skip": left alone while their fingerprint is this one. */
  private readonly baseline = new Map<string, Fingerprint>();
  private readonly processed = new Map<string, Processed>();
  /** Complete files waiting their turn, and the one being processed (until it is done). */
  private readonly queue: Completed[] = [];
  private readonly queued = new Set<string>();
  /** Names already logged as ignored or unreadable, until they disappear from the folder. */
  private readonly reported = new Set<string>();
  private aborted = false;
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private timerDue = Infinity;
  private scanning?: Promise<void>;
  private rescanSoon = false;
  private draining?: Promise<void>;
  private folderProblem?: string;

  constructor(
    private readonly options: WatchOptions,
    private readonly settleMs: number,
    private readonly pollMs: number,
    private readonly onFile: (file: string) => Promise<void>,
  ) {
    this.dir = options.dir;
    this.log = (line) => {
      try {
        options.log(line);
      } catch {
        // A broken log must not stop the watcher.
      }
    };
  }

  async run(): Promise<void> {
    const { signal } = this.options;
    let stopped!: () => void;
    const stop = new Promise<void>((resolve) => (stopped = resolve));
    const onAbort = () => {
      this.aborted = true;
      clearTimeout(this.timer);
      this.timer = undefined;
      this.watcher?.close();
      this.watcher = undefined;
      stopped();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      await this.scan(true);
      if (!this.aborted) {
        this.startFsWatch();
        // Logged once watching for real: files dropped from now on are new, not "already in" the folder.
        this.log(
          `Watching ${this.dir}: a file is processed once its size and modification time have not changed for ${formatDuration(this.settleMs)}`,
        );
        this.afterScan();
      }
      await stop;
    } finally {
      signal.removeEventListener("abort", onAbort);
      onAbort();
      // Both end soon: a scan is a readdir and some stats; draining stops after the current file.
      await this.scanning;
      await this.draining;
    }
  }

  private startFsWatch(): void {
    let watcher: FSWatcher | undefined;
    const giveUp = (error: unknown) => {
      this.log(
        `fs.watch is not available on ${this.dir} (${describeError(error)}): scanning every ${formatDuration(this.pollMs)} only`,
      );
      watcher?.close();
      if (this.watcher === watcher) this.watcher = undefined;
    };
    try {
      watcher = watch(this.dir, { persistent: true }, () => this.wake());
      watcher.on("error", giveUp);
      this.watcher = watcher;
    } catch (error) {
      giveUp(error);
    }
  }

  /** An fs.watch event: scan soon, not at once, so that a burst of events makes one scan. */
  private wake(): void {
    if (this.scanning) this.rescanSoon = true;
    else this.schedule(WAKE_DELAY_MS);
  }

  private schedule(delay: number): void {
    if (this.aborted) return;
    const due = performance.now() + delay;
    if (this.timer && this.timerDue <= due) return;
    clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      if (this.scanning) {
        this.rescanSoon = true;
        return;
      }
      this.scanning = this.scan(false).finally(() => (this.scanning = undefined));
      void this.scanning.then(() => this.afterScan());
    }, delay);
  }

  /** Starts processing what became complete, and schedules the next scan: after pollMs, or sooner if a file settles sooner. */
  private afterScan(): void {
    if (this.aborted) return;
    if (this.queue.length > 0 && !this.draining)
      this.draining = this.drain().finally(() => (this.draining = undefined));
    let delay = this.pollMs;
    if (this.rescanSoon) delay = WAKE_DELAY_MS;
    const now = performance.now();
    for (const { since } of this.pending.values()) delay = Math.min(delay, since + this.settleMs - now);
    this.rescanSoon = false;
    this.schedule(Math.max(MIN_DELAY_MS, Math.ceil(delay)));
  }

  private async scan(initial: boolean): Promise<void> {
    try {
      await this.scanOnce(initial);
    } catch (error) {
      // Not expected (every fs call is guarded), but the watcher must outlive anything.
      this.log(`Error while scanning ${this.dir}: ${describeError(error)}`);
    }
  }

  private async scanOnce(initial: boolean): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      const problem = describeFolderError(error);
      if (problem !== this.folderProblem) this.log(`Cannot read ${this.dir}: ${problem} (still watching)`);
      this.folderProblem = problem;
      return;
    }
    if (this.folderProblem) {
      this.log(`${this.dir} can be read again`);
      // A folder deleted and made again is another folder: the old fs.watch no longer sees it.
      this.watcher?.close();
      if (!this.aborted) this.startFsWatch();
    }
    this.folderProblem = undefined;
    if (this.aborted) return;

    const present = new Set(names);
    const candidates: string[] = [];
    for (const name of names) {
      if (!isIgnoredName(name)) candidates.push(name);
      else this.reportOnce(name, `Ignoring ${join(this.dir, name)}: a hidden or partial file`);
    }
    const seen = await Promise.all(
      candidates.map(async (name) => {
        try {
          const stats = await stat(join(this.dir, name));
          return { name, stats, at: performance.now() };
        } catch (error) {
          if (isMissing(error)) present.delete(name);
          else this.reportOnce(name, `Cannot read ${join(this.dir, name)}: ${describeError(error)}`);
          return undefined;
        }
      }),
    );
    if (this.aborted) return;

    const completed: Completed[] = [];
    const files = new Set<string>();
    let existing = 0;
    for (const entry of seen) {
      if (!entry) continue;
      const { name, stats, at } = entry;
      if (stats.isFile()) files.add(name);
      else {
        this.reportOnce(
          name,
          `Ignoring ${join(this.dir, name)}: ${stats.isDirectory() ? "a subdirectory" : "not a regular file"}`,
        );
        continue;
      }
      const fingerprint = fingerprintOf(stats);
      if (initial) {
        existing++;
        if (this.options.existing === "skip") {
          this.baseline.set(name, fingerprint);
          continue;
        }
      }
      this.observe(name, fingerprint, at, completed);
    }
    if (initial && existing > 0) {
      this.log(
        this.options.existing === "skip"
          ? `${existing} file(s) already in ${this.dir}: skipping them until they change (use --existing process to process them)`
          : `${existing} file(s) already in ${this.dir}: processing them (use --existing skip to ignore them)`,
      );
    }

    // Gone (or unreadable, or no longer a file) before it settled: forgotten quietly. What was
    // processed is kept, to recognise a re-drop.
    for (const map of [this.pending, this.baseline])
      for (const name of map.keys()) if (!files.has(name)) map.delete(name);
    for (const name of this.reported) if (!present.has(name)) this.reported.delete(name);

    completed.sort((a, b) => a.since - b.since || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const file of completed) {
      this.queue.push(file);
      this.queued.add(file.name);
    }
  }

  /** Takes in one sighting of a regular file: starts, restarts or completes its settling. */
  private observe(name: string, fingerprint: Fingerprint, at: number, completed: Completed[]): void {
    // Waiting its turn or being processed: looked at again once done.
    if (this.queued.has(name)) return;
    const pending = this.pending.get(name);
    if (pending) {
      if (!sameFingerprint(pending.fingerprint, fingerprint)) {
        pending.fingerprint = fingerprint;
        pending.since = at;
      } else if (at - pending.since >= this.settleMs) {
        this.pending.delete(name);
        completed.push({ name, fingerprint, since: pending.since });
      }
      return;
    }
    const baseline = this.baseline.get(name);
    if (baseline) {
      if (sameFingerprint(baseline, fingerprint)) return;
      this.baseline.delete(name);
    }
    const processed = this.processed.get(name);
    if (processed && sameFingerprint(processed.fingerprint, fingerprint)) return;
    this.pending.set(name, { fingerprint, since: at });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.aborted) {
      const file = this.queue[0];
      try {
        await this.process(file);
      } catch (error) {
        this.log(`Error processing ${join(this.dir, file.name)}: ${describeError(error)}`);
      } finally {
        this.queue.shift();
        this.queued.delete(file.name);
      }
    }
  }

  /** Hands one complete file to onFile, unless it changed again, vanished, or has the bytes already processed. */
  private async process({ name, fingerprint }: Completed): Promise<void> {
    const file = join(this.dir, name);
    const current = await this.fingerprintNow(file);
    if (!current) return;
    if (!sameFingerprint(current, fingerprint)) return this.restart(name, current);
    let sha256: string;
    try {
      sha256 = await hashFile(file);
    } catch (error) {
      if (isMissing(error)) return;
      this.log(`Cannot read ${file}: ${describeError(error)} (tried again once it changes)`);
      this.processed.set(name, { fingerprint });
      return;
    }
    const after = await this.fingerprintNow(file);
    if (!after) return;
    // Written to while being hashed: not complete after all.
    if (!sameFingerprint(after, fingerprint)) return this.restart(name, after);
    if (this.aborted) return;
    const previous = this.processed.get(name);
    this.processed.set(name, { fingerprint, sha256 });
    if (previous?.sha256 === sha256) {
      this.log(`Skipping ${file}: unchanged since it was processed`);
      return;
    }
    try {
      await this.onFile(file);
    } catch (error) {
      this.log(`Error processing ${file}: ${describeError(error)} (tried again once it changes)`);
    }
  }

  /** The file's fingerprint now, or undefined (quietly) if it is gone or no longer a regular file. */
  private async fingerprintNow(file: string): Promise<Fingerprint | undefined> {
    let stats: Stats;
    try {
      stats = await stat(file);
    } catch (error) {
      if (!isMissing(error)) this.log(`Cannot read ${file}: ${describeError(error)}`);
      return undefined;
    }
    return stats.isFile() ? fingerprintOf(stats) : undefined;
  }

  private restart(name: string, fingerprint: Fingerprint): void {
    this.pending.set(name, { fingerprint, since: performance.now() });
  }

  private reportOnce(name: string, line: string): void {
    if (this.reported.has(name)) return;
    this.reported.add(name);
    this.log(line);
  }
}

function fingerprintOf(stats: Stats): Fingerprint {
  return { size: stats.size, mtimeMs: stats.mtimeMs };
}

function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs;
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Why a folder cannot be watched or read, in words. */
function describeFolderError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT") return "no such directory";
  if (code === "ENOTDIR") return "not a directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  return describeError(error);
}
