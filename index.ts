/**
 * The package's entry point, for cdktf apps that compose the pipeline into their own stacks:
 *
 *   import { FacilityPipeline } from "healthcare-facility-accreditation-pipeline";
 *   new FacilityPipeline(stack, "facility-pipeline", { namePrefix: "acme-hfap" });
 *
 * The app configures the AWS provider (and its default_tags) and the backend itself.
 */
export { FacilityPipeline, FacilityPipelinePropsError, type FacilityPipelineProps } from "./modules/pipeline";
export { Storage, type StorageProps } from "./modules/storage";
export { Catalog, type CatalogProps } from "./modules/catalog";
export { Compute, type ComputeProps, type FunctionSettings, type PipelineFunction } from "./modules/compute";
export {
  ComplianceTopic,
  FailureTopic,
  NotificationTopic,
  type ComplianceTopicProps,
  type FailureTopicProps,
  type NotificationTopicProps,
} from "./modules/notifications";
export { Orchestration, type OrchestrationProps } from "./modules/orchestration";
export { ExpiryDigest, type ExpiryDigestProps } from "./modules/expiry-digest";
export { ServiceRole, type ServiceRoleProps } from "./modules/iam";
export { INTEGRATION_PERMISSIONS } from "./modules/integration-permissions";
export { policyDocument, type PolicyDocument, type PolicyStatement } from "./modules/policy-document";
export { bundleLambda, type LambdaBundle } from "./modules/lambda-bundle";
export {
  parseConfig,
  ConfigError,
  type FacilityPipelineConfig,
  type FacilityPipelineConfigInput,
} from "./config/schema";
export { FACILITY_COLUMNS, type FieldDefinition, type ColumnType } from "./core/facility-schema";
export { DATA_PREFIXES, CATALOG } from "./core/data-layout";
