/**
 * The folder holding this package's package.json, where sql/, state-machines/ and lambdas/ live.
 * Found by walking up, so it is the same from the sources (core/) and from a build (dist/core/).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`No package.json above ${start}: the package is incomplete`);
  }
}

export const PACKAGE_ROOT = findPackageRoot(__dirname);
