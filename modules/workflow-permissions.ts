/**
 * The statements both workflows' roles hold (the facility pipeline's and the expiry digest's):
 * Athena queries in the pipeline's workgroup over the current-state Iceberg table, publishing to
 * the topics they notify, and Step Functions' own logging and tracing. Each role adds what only
 * it does; the least-privilege tests hold a request table for each.
 */
import type { Catalog } from "./catalog";
import { INTEGRATION_PERMISSIONS as P } from "./integration-permissions";
import type { NotificationTopic } from "./notifications";
import { whilePresent, type Presence } from "./byo";
import type { PolicyStatement } from "./policy-document";
import type { Storage } from "./storage";

export interface WorkflowScope {
  readonly storage: Storage;
  readonly catalog: Catalog;
  /** The AWS account, region and partition the stack deploys to. */
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
}

const glueArn = (scope: WorkflowScope, resource: string) =>
  `arn:${scope.partition}:glue:${scope.region}:${scope.accountId}:${resource}`;

/**
 * Running queries that read the given tables of the pipeline's database and commit to the
 * current-state table (MERGE, OPTIMIZE, VACUUM): Glue GetTable/UpdateTable on that table only,
 * S3 read, write and delete on its prefix only, the query results under athena-results/.
 */
export function currentStateQueryStatements(scope: WorkflowScope, readTables: readonly string[]): PolicyStatement[] {
  const { storage, catalog } = scope;
  const database = [glueArn(scope, "catalog"), glueArn(scope, `database/${catalog.databaseName}`)];
  return [
    { Sid: "RunQueriesInWorkgroup", Effect: "Allow", Action: P.athenaQuery.actions, Resource: catalog.workgroup.arn },
    {
      Sid: "ReadFacilityTables",
      Effect: "Allow",
      Action: P.athenaCatalogRead.actions,
      Resource: [...database, ...readTables.map((table) => glueArn(scope, `table/${catalog.databaseName}/${table}`))],
    },
    {
      Sid: "CommitCurrentState",
      Effect: "Allow",
      Action: P.icebergCommit.actions,
      Resource: [...database, glueArn(scope, `table/${catalog.databaseName}/${catalog.tableName}`)],
    },
    {
      Sid: "WriteCurrentStateFiles",
      Effect: "Allow",
      Action: P.icebergDataWrite.actions,
      Resource: storage.objectArns("current"),
    },
    { Sid: "ListQueriedPrefixes", Effect: "Allow", Action: P.athenaBucketList.actions, Resource: storage.bucketArn },
    {
      Sid: "WriteQueryResults",
      Effect: "Allow",
      Action: P.athenaResultsWrite.actions,
      Resource: [storage.bucketArn, storage.objectArns("athenaResults")],
    },
    ...storage.bucketKeyStatements(),
  ];
}

/** Publishing to each topic (`Sid` names what for), and using the keys they are encrypted with. */
export function publishStatements(topics: Readonly<Record<string, NotificationTopic>>): PolicyStatement[] {
  const publish = Object.entries(topics).map(([sid, topic]): PolicyStatement => ({
    Sid: sid,
    Effect: "Allow",
    Action: P.snsPublish.actions,
    Resource: topic.topicArn,
  }));
  // One key per distinct ARN; the topics may share one.
  const keys = new Map<string, Presence>();
  for (const topic of Object.values(topics))
    if (topic.keyArn && topic.keyPresent !== false) keys.set(topic.keyArn, topic.keyPresent);
  const encrypt = (Resource: string | string[], present: Presence, index = 0): PolicyStatement[] =>
    whilePresent(
      {
        Sid: `EncryptNotifications${index > 0 ? index + 1 : ""}`,
        Effect: "Allow",
        Action: P.snsEncryptedPublish.actions,
        Resource,
      },
      present,
    );
  const entries = [...keys.entries()];
  if (entries.length === 0) return publish;
  if (entries.every(([, present]) => present === true)) {
    return [...publish, ...encrypt(entries.length === 1 ? entries[0][0] : entries.map(([arn]) => arn), true)];
  }
  return [...publish, ...entries.flatMap(([arn, present], index) => encrypt(arn, present, index))];
}

/** Execution logs and X-Ray traces: neither supports resource-level scoping. */
export const STEP_FUNCTIONS_TELEMETRY: readonly PolicyStatement[] = [
  { Sid: "DeliverExecutionLogs", Effect: "Allow", Action: P.logDelivery.actions, Resource: "*" },
  { Sid: "WriteTraces", Effect: "Allow", Action: P.xrayTracing.actions, Resource: "*" },
];
