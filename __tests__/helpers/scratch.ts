/** A test file's scratch directory: removed after its tests, with a state directory inside. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Scratch {
  readonly dir: string;
  /** `<dir>/state`, for --state-dir (created by the first pipeline that uses it). */
  readonly stateDir: string;
  /** Writes `text` to `<dir>/<name>` and returns the path. */
  file(name: string, text: string): string;
}

/** Call at the top level of a test file: the directory is removed in afterAll. */
export function scratchDirectory(prefix: string): Scratch {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    stateDir: join(dir, "state"),
    file(name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
  };
}
