/**
 * `npm run diff -- ENV` and `npm run deploy -- ENV [cdktf options]`: `cdktf diff|deploy` of the
 * stack `facility-pipeline-ENV`, with FACILITY_PIPELINE_ENV set to match. The app synthesizes one
 * environment (main.ts), so `npx cdktf deploy facility-pipeline-prod` with the variable unset or
 * set to another answers only "Could not find stack"; this names the stack and says why.
 *
 *   npm run diff -- prod
 *   npm run deploy -- prod --auto-approve
 */
import { spawnSync } from "node:child_process";
import { listEnvironments } from "../config/load";

export const STACK_PREFIX = "facility-pipeline-";

export interface CdktfCommand {
  readonly args: readonly string[];
  readonly environment: string;
}

export class CdktfEnvError extends Error {
  override readonly name = "CdktfEnvError";
}

/**
 * The cdktf command for `verb ENV [options]`, or an error that says what is wrong: no
 * environment, one without a config file, or FACILITY_PIPELINE_ENV selecting another.
 */
export function cdktfCommand(
  verb: "diff" | "deploy",
  argv: readonly string[],
  selected: string | undefined,
  known: readonly string[] = listEnvironments(),
): CdktfCommand {
  const [given, ...options] = argv;
  const environment = given?.startsWith(STACK_PREFIX) ? given.slice(STACK_PREFIX.length) : given;
  if (environment === undefined || environment.startsWith("-")) {
    throw new CdktfEnvError(
      `npm run ${verb} -- ENV: name the environment (${known.join(", ")}); it ${verb}s the stack ${STACK_PREFIX}ENV`,
    );
  }
  if (!known.includes(environment)) {
    throw new CdktfEnvError(
      `No configuration for environment "${environment}" (config/${environment}.json). Known environments: ${known.join(", ")}`,
    );
  }
  if (selected !== undefined && selected !== environment) {
    throw new CdktfEnvError(
      `FACILITY_PIPELINE_ENV=${selected} selects the stack ${STACK_PREFIX}${selected}, not ${STACK_PREFIX}${environment}: ` +
        `unset it, or run FACILITY_PIPELINE_ENV=${environment} npm run ${verb} -- ${environment}`,
    );
  }
  return { environment, args: [verb, `${STACK_PREFIX}${environment}`, ...options] };
}

if (require.main === module) {
  const verb = process.argv[2] as "diff" | "deploy";
  try {
    const command = cdktfCommand(verb, process.argv.slice(3), process.env.FACILITY_PIPELINE_ENV);
    process.stderr.write(`cdktf ${command.args.join(" ")}  (FACILITY_PIPELINE_ENV=${command.environment})\n`);
    const result = spawnSync("cdktf", command.args, {
      stdio: "inherit",
      env: { ...process.env, FACILITY_PIPELINE_ENV: command.environment },
    });
    process.exitCode = result.status ?? 1;
  } catch (error) {
    if (!(error instanceof CdktfEnvError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 2;
  }
}
