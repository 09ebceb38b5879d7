/**
 * Validates state machine definitions: `node --import tsx scripts/lint-asl.ts [file ...]`.
 *
 * With no arguments, checks every state-machines/*.asl.json; with file arguments (what pre-commit
 * passes: the staged files), checks only those. Each file is rendered with the example value of
 * each placeholder (raw `${Name}` strings are not ARNs) and validated by asl-validator's API with
 * its ARN and path checks on, plus the project conventions. Unknown placeholders are errors.
 * Exits 1 if any file has a problem, printing the file and every message.
 *
 * asl-validator's own CLI is not used: it ignores positional file arguments and exits 0 (only
 * `--json-path FILE` validates a file), which is an easy way to get a lint that never fails.
 */
import { relative } from "node:path";
import { STATE_MACHINES_DIR, STATE_MACHINE_SUFFIX, lintStateMachine, listStateMachines, readStateMachineFile } from "../core/asl";

/** Every problem of one file, or an empty list when it is valid. */
export function lintStateMachineFile(path: string): string[] {
  try {
    return lintStateMachine(readStateMachineFile(path));
  } catch (error) {
    // Unreadable or invalid JSON, or a placeholder that cannot be rendered.
    return [(error as Error).message];
  }
}

function main(args: readonly string[]): number {
  const files =
    args.length > 0 ? args : listStateMachines().map((name) => `${STATE_MACHINES_DIR}/${name}${STATE_MACHINE_SUFFIX}`);
  let failed = 0;
  for (const file of files) {
    const fromCwd = relative(process.cwd(), file);
    const shown = fromCwd && !fromCwd.startsWith("..") ? fromCwd : file;
    const problems = lintStateMachineFile(file);
    if (problems.length === 0) {
      console.log(`ok ${shown}`);
    } else {
      failed++;
      console.error(`FAIL ${shown}\n${problems.map((problem) => `  ${problem.replaceAll("\n", "\n  ")}`).join("\n")}`);
    }
  }
  if (files.length === 0) console.log("No state machine definitions to check.");
  if (failed > 0) {
    console.error(`\n${failed} of ${files.length} state machine definition(s) invalid.`);
    return 1;
  }
  return 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
