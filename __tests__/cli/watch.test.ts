import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isIgnoredName, watchFolder, type WatchOptions } from "../../cli/watch";
import type * as WatchModule from "../../cli/watch";
import type * as Fs from "node:fs";
import type * as FsPromises from "node:fs/promises";

// Real files in a temporary folder, with short delays. The scenarios are independent (one folder
// each) and mostly wait, so they run concurrently to keep the suite short.
const SETTLE_MS = 200;
const POLL_MS = 50;

type Tuning = Partial<Pick<WatchOptions, "settleMs" | "pollMs" | "existing">>;

interface Watching {
  /** Lines logged so far. */
  readonly logs: string[];
  /** Each call of onFile: the name, and the content read at that moment. */
  readonly seen: { name: string; content: string }[];
  readonly names: () => string[];
  /** The promise of watchFolder. */
  readonly done: Promise<void>;
  readonly controller: AbortController;
  /** Resolves once the watcher logged that it is watching (after its look at the files already there). */
  readonly ready: () => Promise<void>;
  readonly stop: () => Promise<void>;
}

function startWatching(
  dir: string,
  tuning: Tuning = {},
  handler?: (file: string) => Promise<void>,
  watch: typeof watchFolder = watchFolder,
): Watching {
  const controller = new AbortController();
  const logs: string[] = [];
  const seen: { name: string; content: string }[] = [];
  const done = watch(
    {
      dir,
      settleMs: SETTLE_MS,
      pollMs: POLL_MS,
      ...tuning,
      signal: controller.signal,
      log: (line) => logs.push(line),
    },
    async (file) => {
      seen.push({ name: basename(file), content: readFileSync(file, "utf8") });
      await handler?.(file);
    },
  );
  return {
    logs,
    seen,
    names: () => seen.map((call) => call.name),
    done,
    controller,
    ready: () => waitFor(() => logs.some((line) => line.startsWith(`Watching ${dir}:`)), "the watcher to start"),
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

/** Runs a scenario in a fresh folder; whatever it started is stopped, and the folder removed, even if it fails. */
async function inFolder(
  body: (
    dir: string,
    start: (tuning?: Tuning, handler?: (file: string) => Promise<void>, watch?: typeof watchFolder) => Watching,
  ) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "watch-test-"));
  const started: Watching[] = [];
  try {
    await body(dir, (tuning, handler, watch) => {
      const watching = startWatching(dir, tuning, handler, watch);
      started.push(watching);
      return watching;
    });
  } finally {
    for (const watching of started) await watching.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Sets a file's mtime to a given number of seconds after now: a change of mtime however coarse the filesystem's clock. */
function setMtime(file: string, secondsFromNow: number): void {
  const when = new Date(Date.now() + secondsFromNow * 1000);
  utimesSync(file, when, when);
}

/** Enough time for anything that was going to be processed to have been. */
const QUIET_MS = SETTLE_MS + 4 * POLL_MS;

describe("watchFolder", () => {
  test.concurrent(
    "a file written slowly (appended every 300 ms) is processed once, whole, after it stops growing",
    () =>
      inFolder(async (dir, start) => {
        const settleMs = 700;
        const watching = start({ settleMs });
        await watching.ready();
        const file = join(dir, "slow.json");
        let expected = "chunk 0\n";
        writeFileSync(file, expected);
        for (let chunk = 1; chunk <= 5; chunk++) {
          await sleep(300);
          appendFileSync(file, `chunk ${chunk}\n`);
          expected += `chunk ${chunk}\n`;
          // Longer pauses than the old 200 ms size check: it would have taken the file half-written.
          expect(watching.seen).toEqual([]);
        }
        const finished = Date.now();
        await waitFor(() => watching.seen.length > 0, "slow.json to be processed");
        expect(Date.now() - finished).toBeGreaterThanOrEqual(settleMs - POLL_MS);
        await sleep(QUIET_MS);
        expect(watching.seen).toEqual([{ name: "slow.json", content: expected }]);
      }),
  );

  test.concurrent("a file dropped again with changed content is processed again (new size, then same size)", () =>
    inFolder(async (dir, start) => {
      const watching = start();
      await watching.ready();
      const file = join(dir, "facilities.json");
      writeFileSync(file, "v1");
      await waitFor(() => watching.seen.length === 1, "the first version to be processed");
      writeFileSync(file, "version 2");
      await waitFor(() => watching.seen.length === 2, "the second version (another size) to be processed");
      writeFileSync(file, "version 3"); // the same size as version 2
      setMtime(file, 5);
      await waitFor(() => watching.seen.length === 3, "the third version (same size) to be processed");
      await sleep(QUIET_MS);
      expect(watching.seen).toEqual([
        { name: "facilities.json", content: "v1" },
        { name: "facilities.json", content: "version 2" },
        { name: "facilities.json", content: "version 3" },
      ]);
    }),
  );

  test.concurrent(
    "a file dropped again with the same bytes (touched, or deleted and copied again) is skipped, and says so",
    () =>
      inFolder(async (dir, start) => {
        const watching = start();
        await watching.ready();
        const file = join(dir, "same.json");
        const skipped = () =>
          watching.logs.filter((line) => line === `Skipping ${file}: unchanged since it was processed`);
        writeFileSync(file, '{"same":true}');
        await waitFor(() => watching.seen.length === 1, "the file to be processed");

        setMtime(file, 5); // touch
        await waitFor(() => skipped().length === 1, "the touched file to be skipped");
        unlinkSync(file);
        await sleep(2 * POLL_MS);
        writeFileSync(file, '{"same":true}'); // dropped again, same bytes
        await waitFor(() => skipped().length === 2, "the identical re-drop to be skipped");
        expect(watching.names()).toEqual(["same.json"]);

        // Remembering the bytes, not the name: a real change is processed.
        writeFileSync(file, '{"same":false}');
        await waitFor(() => watching.seen.length === 2, "the changed file to be processed");
        await sleep(QUIET_MS);
        expect(watching.seen.map((call) => call.content)).toEqual(['{"same":true}', '{"same":false}']);
        expect(skipped()).toHaveLength(2);
      }),
  );

  test.concurrent("partial and hidden files, subdirectories and FIFOs are never processed, each logged once", () =>
    inFolder(async (dir, start) => {
      const watching = start();
      await watching.ready();
      const ignored = [".x.tmp", ".data.json.Xa81Qz", "x.part", "x.crdownload", "x~", ".hidden", "x.swp", "x.download"];
      for (const name of ignored) writeFileSync(join(dir, name), "partial");
      mkdirSync(join(dir, "sub"));
      writeFileSync(join(dir, "sub", "inner.json"), "{}");
      if (process.platform !== "win32") execFileSync("mkfifo", [join(dir, "pipe.json")]);
      writeFileSync(join(dir, "download.part"), '{"half":');
      await sleep(POLL_MS);
      writeFileSync(join(dir, "data.json"), "{}");
      await waitFor(() => watching.names().includes("data.json"), "data.json to be processed");

      // The download finishes and is renamed: processed whole under its final name.
      appendFileSync(join(dir, "download.part"), "false}");
      renameSync(join(dir, "download.part"), join(dir, "download.json"));
      await waitFor(() => watching.names().includes("download.json"), "download.json to be processed");
      await sleep(QUIET_MS);

      expect(watching.seen).toEqual([
        { name: "data.json", content: "{}" },
        { name: "download.json", content: '{"half":false}' },
      ]);
      for (const name of [...ignored, "download.part"]) {
        const lines = watching.logs.filter((line) => line.startsWith(`Ignoring ${join(dir, name)}: `));
        expect({ name, lines: lines.length }).toEqual({ name, lines: 1 });
      }
      expect(watching.logs).toContain(`Ignoring ${join(dir, "sub")}: a subdirectory`);
      if (process.platform !== "win32")
        expect(watching.logs).toContain(`Ignoring ${join(dir, "pipe.json")}: not a regular file`);
    }),
  );

  test.concurrent('files already in the folder are processed by default ("process"), and the log says so', () =>
    inFolder(async (dir, start) => {
      writeFileSync(join(dir, "a.json"), "a");
      writeFileSync(join(dir, "b.json"), "b");
      writeFileSync(join(dir, ".hidden"), "never");
      const watching = start();
      await waitFor(() => watching.seen.length === 2, "both files to be processed");
      await sleep(QUIET_MS);
      expect(watching.names().sort()).toEqual(["a.json", "b.json"]);
      expect(watching.logs).toContain(
        `2 file(s) already in ${dir}: processing them (use --existing skip to ignore them)`,
      );
    }),
  );

  test.concurrent('with existing "skip", files already there are logged and left alone until they change', () =>
    inFolder(async (dir, start) => {
      const old = join(dir, "old.json");
      writeFileSync(old, "old");
      const watching = start({ existing: "skip" });
      await watching.ready();
      expect(watching.logs).toContain(
        `1 file(s) already in ${dir}: skipping them until they change (use --existing process to process them)`,
      );
      writeFileSync(join(dir, "new.json"), "new");
      await waitFor(() => watching.seen.length === 1, "new.json to be processed");
      await sleep(QUIET_MS);
      expect(watching.names()).toEqual(["new.json"]);

      appendFileSync(old, " and changed");
      await waitFor(() => watching.seen.length === 2, "old.json, changed, to be processed");
      expect(watching.seen[1]).toEqual({ name: "old.json", content: "old and changed" });
    }),
  );

  test.concurrent("an error thrown by onFile is logged with the file and watching goes on", () =>
    inFolder(async (dir, start) => {
      const bad = join(dir, "bad.json");
      const watching = start({}, async (file) => {
        if (file === bad) throw new Error("schema mismatch");
      });
      await watching.ready();
      writeFileSync(bad, "{");
      await waitFor(() => watching.logs.some((line) => line.includes("schema mismatch")), "the error to be logged");
      expect(watching.logs).toContain(`Error processing ${bad}: schema mismatch (tried again once it changes)`);
      writeFileSync(join(dir, "good.json"), "{}");
      await waitFor(() => watching.names().includes("good.json"), "good.json to be processed");
      await sleep(QUIET_MS);
      // Not retried in a loop while unchanged.
      expect(watching.names()).toEqual(["bad.json", "good.json"]);
    }),
  );

  test.concurrent("complete files are handed over one at a time, in the order they became complete", () =>
    inFolder(async (dir, start) => {
      let active = 0;
      let maxActive = 0;
      const watching = start({}, async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(100);
        active--;
      });
      await watching.ready();
      // a.json appears first but keeps growing; b.json and c.json are dropped whole after it.
      const a = join(dir, "a.json");
      writeFileSync(a, "a0");
      await sleep(40);
      writeFileSync(join(dir, "b.json"), "b");
      await sleep(40);
      writeFileSync(join(dir, "c.json"), "c");
      for (let i = 1; i <= 8; i++) {
        await sleep(60);
        appendFileSync(a, `a${i}`);
      }
      await waitFor(() => watching.seen.length === 3, "the three files to be processed");
      expect(watching.names()).toEqual(["b.json", "c.json", "a.json"]);
      expect(watching.seen[2].content).toBe("a0a1a2a3a4a5a6a7a8");
      expect(maxActive).toBe(1);
    }),
  );

  test.concurrent("a file deleted before it settles is forgotten quietly", () =>
    inFolder(async (dir, start) => {
      const watching = start({ settleMs: 300 });
      await watching.ready();
      const gone = join(dir, "gone.json");
      writeFileSync(gone, "{");
      await sleep(120); // seen, not settled
      unlinkSync(gone);
      writeFileSync(join(dir, "kept.json"), "{}");
      await waitFor(() => watching.seen.length === 1, "kept.json to be processed");
      await sleep(300 + 4 * POLL_MS);
      expect(watching.names()).toEqual(["kept.json"]);
      expect(watching.logs.filter((line) => line.includes("gone.json"))).toEqual([]);
    }),
  );

  test.concurrent(
    "aborting resolves the promise after the file being processed is done; files waiting are dropped",
    () =>
      inFolder(async (dir, start) => {
        let finished = false;
        const watching = start({}, async (file) => {
          if (basename(file) === "a-slow.json") {
            await sleep(500);
            finished = true;
          }
        });
        await watching.ready();
        writeFileSync(join(dir, "a-slow.json"), "slow");
        await sleep(100);
        writeFileSync(join(dir, "b-next.json"), "next");
        await waitFor(() => watching.seen.length === 1, "a-slow.json to be started");
        await sleep(300); // b-next.json is complete by now, waiting its turn
        watching.controller.abort();
        let resolved = false;
        void watching.done.then(() => (resolved = true));
        await sleep(20);
        expect(resolved).toBe(false);
        await watching.done;
        expect(finished).toBe(true);
        expect(watching.names()).toEqual(["a-slow.json"]);
      }),
  );

  test.concurrent("aborting an idle watcher resolves at once, and nothing is processed afterwards", () =>
    inFolder(async (dir, start) => {
      const watching = start();
      await watching.ready();
      const stopped = Date.now();
      watching.controller.abort();
      await watching.done;
      expect(Date.now() - stopped).toBeLessThan(250);
      writeFileSync(join(dir, "late.json"), "{}");
      await sleep(QUIET_MS);
      expect(watching.seen).toEqual([]);

      // A signal aborted before watching starts: resolves without processing anything.
      writeFileSync(join(dir, "there.json"), "{}");
      const onFile = jest.fn(async () => undefined);
      await expect(
        watchFolder({ dir, signal: AbortSignal.abort(), log: () => undefined }, onFile),
      ).resolves.toBeUndefined();
      expect(onFile).not.toHaveBeenCalled();
    }),
  );

  test.concurrent("when fs.watch is unavailable, the periodic scan still finds files", () =>
    inFolder(async (dir, start) => {
      let isolated!: typeof WatchModule;
      jest.isolateModules(() => {
        jest.doMock("node:fs", () => ({
          ...jest.requireActual<typeof Fs>("node:fs"),
          watch: () => {
            throw Object.assign(new Error("ENOSPC: System limit for number of file watchers reached"), {
              code: "ENOSPC",
            });
          },
        }));
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        isolated = require("../../cli/watch");
      });
      jest.dontMock("node:fs");
      const watching = start({}, undefined, isolated.watchFolder);
      await watching.ready();
      expect(watching.logs.some((line) => line.startsWith(`fs.watch is not available on ${dir} (ENOSPC`))).toBe(true);
      writeFileSync(join(dir, "polled.json"), "{}");
      await waitFor(() => watching.seen.length === 1, "polled.json to be processed");
      expect(watching.names()).toEqual(["polled.json"]);
    }),
  );

  test.concurrent(
    "no busy loop: the folder is read about once per pollMs, even with a file that became unreadable",
    () =>
      inFolder(async (dir, start) => {
        const locked = join(dir, "locked.json");
        let readdirCalls = 0;
        let lockedStats = 0;
        let isolated!: typeof WatchModule;
        jest.isolateModules(() => {
          const actual = jest.requireActual<typeof FsPromises>("node:fs/promises");
          jest.doMock("node:fs/promises", () => ({
            ...actual,
            readdir: (...args: Parameters<typeof actual.readdir>) => {
              readdirCalls++;
              return actual.readdir(...args);
            },
            // Readable when first seen (so it starts settling), then not: as after a chmod.
            stat: (path: string) =>
              path === locked && lockedStats++ > 0
                ? Promise.reject(
                    Object.assign(new Error(`EACCES: permission denied, stat '${path}'`), { code: "EACCES" }),
                  )
                : actual.stat(path),
          }));
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          isolated = require("../../cli/watch");
        });
        jest.dontMock("node:fs/promises");
        const watching = start({ pollMs: 100 }, undefined, isolated.watchFolder);
        await watching.ready();
        writeFileSync(locked, "{}");
        await sleep(50);
        const before = readdirCalls;
        await sleep(1000);
        const scans = readdirCalls - before;
        // About 10 scans in 1 s, plus the few fs.watch wake-ups; a busy loop would make thousands.
        expect(scans).toBeGreaterThanOrEqual(5);
        expect(scans).toBeLessThanOrEqual(20);
        expect(watching.logs.filter((line) => line.startsWith(`Cannot read ${locked}: EACCES`))).toHaveLength(1);
        expect(watching.seen).toEqual([]);
      }),
  );

  test("a missing folder, or a file, rejects at once with an error naming the path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "watch-test-"));
    try {
      const log = jest.fn();
      const missing = join(dir, "no-such-folder");
      await expect(
        watchFolder({ dir: missing, signal: new AbortController().signal, log }, async () => undefined),
      ).rejects.toThrow(`Cannot watch ${missing}: no such directory`);
      const file = join(dir, "file.json");
      writeFileSync(file, "{}");
      await expect(
        watchFolder({ dir: file, signal: new AbortController().signal, log }, async () => undefined),
      ).rejects.toThrow(`Cannot watch ${file}: not a directory`);
      await expect(
        watchFolder({ dir, pollMs: 0, signal: new AbortController().signal, log }, async () => undefined),
      ).rejects.toThrow("pollMs must be > 0");
      expect(log).not.toHaveBeenCalled();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("isIgnoredName", () => {
  test.each([
    [".hidden", true],
    [".DS_Store", true],
    [".facilities.json.Xa81Qz", true], // rsync's temporary file
    [".x.tmp", true],
    ["x.tmp", true],
    ["x.TMP", true],
    ["x.part", true],
    ["x.partial", true],
    ["x.crdownload", true],
    ["x.download", true],
    ["x.filepart", true],
    ["x.swp", true],
    ["x~", true],
    ["~$report.xlsx", true],
    ["data.json", false],
    ["facilities.csv", false],
    ["x.tmp.json", false],
    ["part", false],
    ["my~file.json", false],
    ["report.2026.json", false],
  ])("%s -> %s", (name, expected) => {
    expect(isIgnoredName(name)).toBe(expected);
  });
});
