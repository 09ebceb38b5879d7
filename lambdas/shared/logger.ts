/**
 * Structured JSON logs (Powertools Logger). The level comes from POWERTOOLS_LOG_LEVEL (or the
 * function's AWS_LAMBDA_LOG_LEVEL), INFO by default.
 */
import { Logger } from "@aws-lambda-powertools/logger";

export type { Logger };

/** A logger whose lines carry `service: <serviceName>`; create one per handler, at module scope. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}
