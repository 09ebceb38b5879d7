/**
 * The pre-commit hooks (.pre-commit-config.yaml).
 *
 * The lint-asl hook's `entry` is read from the config and run exactly as pre-commit runs it (from
 * the repository root, file names appended), so these tests need no pre-commit binary. Where
 * pre-commit is installed, the last test also commits through it in a scratch repository.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..");
const CONFIG_FILE = join(ROOT, ".pre-commit-config.yaml");
const DEFINITION = "state-machines/facility-pipeline.asl.json";

interface Hook {
  readonly id: string;
  readonly fields: Readonly<Record<string, string>>;
}

/**
 * The hooks of the config, with their scalar fields. A deliberately small reader for this file's
 * shape (one `- id:` item per hook, `key: value` lines), so the test needs no YAML dependency.
 */
function readHooks(): Hook[] {
  const hooks: Array<{ id: string; fields: Record<string, string> }> = [];
  for (const line of readFileSync(CONFIG_FILE, "utf8").split("\n")) {
    const item = /^\s+- id:\s*(\S+)\s*$/.exec(line);
    if (item) {
      hooks.push({ id: item[1], fields: {} });
      continue;
    }
    const field = /^\s+([a-z_]+):\s*(.+?)\s*$/.exec(line);
    if (field && hooks.length > 0 && !line.trimStart().startsWith("- ")) {
      hooks[hooks.length - 1].fields[field[1]] = field[2];
    }
  }
  return hooks;
}

function hook(id: string): Hook {
  const found = readHooks().find((candidate) => candidate.id === id);
  if (!found) throw new Error(`.pre-commit-config.yaml has no hook "${id}"`);
  return found;
}

/** Runs a hook's entry as pre-commit does: split on whitespace, file names appended, from the root. */
function runEntry(id: string, files: readonly string[]): SpawnSyncReturns<string> {
  const [command, ...args] = hook(id).fields.entry.split(/\s+/);
  return spawnSync(command, [...args, ...files], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
}

/** The pipeline definition with IngestFacilities' Next pointing at a state that does not exist. */
function brokenDefinition(): string {
  const definition = JSON.parse(readFileSync(join(ROOT, DEFINITION), "utf8"));
  definition.States.IngestFacilities.Next = "AnalyseFacilities";
  return `${JSON.stringify(definition, null, 2)}\n`;
}

function preCommitVersion(): string | null {
  const result = spawnSync("pre-commit", ["--version"], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : null;
}

describe(".pre-commit-config.yaml", () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), "pre-commit-test-"));
  });
  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  test("every hook is local and runs the project's own binaries without downloading any", () => {
    const config = readFileSync(CONFIG_FILE, "utf8");
    expect(config.match(/^\s*- repo:\s*(\S+)/gm)).toEqual(["  - repo: local"]);
    expect(
      readHooks().map(({ id, fields }) => [id, fields.language, fields.entry.split(" ").slice(0, 3).join(" ")]),
    ).toEqual([
      ["lint-asl", "system", "npm exec --no"],
      ["prettier", "system", "npm exec --no"],
      ["eslint", "system", "npm exec --no"],
    ]);
  });

  test("lint-asl runs on state machine definitions only", () => {
    const files = new RegExp(hook("lint-asl").fields.files);
    expect(files.test(DEFINITION)).toBe(true);
    expect(files.test("state-machines/another.asl.json")).toBe(true);
    expect(files.test("state-machines/README.md")).toBe(false);
    expect(files.test("__tests__/fixtures/state-machines/x.asl.json")).toBe(false);
  });

  test("the lint-asl entry rejects a definition whose Next names no state, naming the file and the state", () => {
    const broken = join(scratch, "facility-pipeline.asl.json");
    writeFileSync(broken, brokenDefinition());

    const result = runEntry("lint-asl", [broken]);

    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`FAIL ${broken}`);
    expect(result.stderr).toContain(
      "MISSING_TRANSITION_TARGET: Missing 'StartAt'|'Next'|'Default' target: AnalyseFacilities",
    );
  });

  test("the lint-asl entry accepts the real definition", () => {
    const result = runEntry("lint-asl", [DEFINITION]);

    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`ok ${DEFINITION}`);
  });

  test("with no file arguments, lint-asl checks every definition in state-machines/", () => {
    const result = runEntry("lint-asl", []);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`ok ${DEFINITION}`);
  });

  test("pre-commit blocks a commit of a broken definition and lets the real one through (where installed)", () => {
    const version = preCommitVersion();
    if (version === null) {
      // Not installed (CI images rarely have it): the entry tests above run the same command.
      expect(hook("lint-asl").fields.entry).toMatch(/^npm exec --no -- node --import tsx scripts\/lint-asl\.ts$/);
      return;
    }

    // GIVEN a repository with this config, the lint's sources and the project's node_modules
    const repo = join(scratch, "repo");
    for (const path of [
      ".pre-commit-config.yaml",
      ".prettierrc.json",
      "package.json",
      "core",
      "scripts",
      "sql",
      DEFINITION,
    ]) {
      cpSync(join(ROOT, path), join(repo, path), { recursive: true });
    }
    symlinkSync(join(ROOT, "node_modules"), join(repo, "node_modules"));
    const env = { ...process.env, PRE_COMMIT_HOME: join(scratch, "pre-commit-home") };
    const run = (command: string, ...args: string[]) =>
      spawnSync(command, args, { cwd: repo, env, encoding: "utf8", timeout: 120_000 });
    run("git", "init", "--quiet");
    run("git", "config", "user.email", "test@example.org");
    run("git", "config", "user.name", "pre-commit test");
    expect(run("pre-commit", "install").status).toBe(0);

    // WHEN the broken definition is committed
    writeFileSync(join(repo, DEFINITION), brokenDefinition());
    run("git", "add", DEFINITION);
    const rejected = run("git", "commit", "--quiet", "-m", "broken");

    // THEN the commit is refused with the validator's message
    expect(rejected.status).not.toBe(0);
    expect(rejected.stdout + rejected.stderr).toMatch(/validate Step Functions definitions.*Failed/);
    expect(rejected.stdout + rejected.stderr).toContain("target: AnalyseFacilities");
    expect(run("git", "rev-parse", "--verify", "--quiet", "HEAD").status).not.toBe(0);

    // WHEN the real definition is committed THEN it goes through
    cpSync(join(ROOT, DEFINITION), join(repo, DEFINITION));
    run("git", "add", DEFINITION);
    const accepted = run("git", "commit", "--quiet", "-m", "valid");
    expect(accepted.stdout + accepted.stderr).toMatch(/validate Step Functions definitions.*Passed/);
    expect(accepted.status).toBe(0);
  }, 180_000);
});
