/**
 * IAM roles whose policies are plain objects (see policy-document.ts), and the trust policies
 * of the AWS services that assume them.
 */
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Construct } from "constructs";
import { policyDocument, renderPolicy, type PolicyDocument, type PolicyStatement } from "./policy-document";

export interface ServiceRoleProps {
  /** Role name. */
  readonly name: string;
  readonly description: string;
  /** The service principal allowed to assume the role, e.g. "lambda.amazonaws.com". */
  readonly servicePrincipal: string;
  /**
   * Conditions on the trust statement, against the confused deputy problem
   * (aws:SourceAccount, aws:SourceArn).
   * @default - none
   */
  readonly trustConditions?: PolicyStatement["Condition"];
  /** The role's permissions, as one inline policy. */
  readonly permissions: readonly PolicyStatement[];
  /** @default - no permissions boundary */
  readonly permissionsBoundary?: string;
  /** @default "/" */
  readonly path?: string;
}

/** A role that one AWS service assumes, with exactly the permissions given inline. */
export class ServiceRole extends Construct {
  readonly role: IamRole;
  readonly roleArn: string;
  readonly roleName: string;
  /** The permissions as data, for tests and reviews. */
  readonly permissions: PolicyDocument;

  constructor(scope: Construct, id: string, props: ServiceRoleProps) {
    super(scope, id);
    this.permissions = policyDocument(...props.permissions);
    this.role = new IamRole(this, "role", {
      name: props.name,
      description: props.description,
      path: props.path,
      permissionsBoundary: props.permissionsBoundary,
      assumeRolePolicy: renderPolicy(
        policyDocument({
          Sid: "TrustService",
          Effect: "Allow",
          Principal: { Service: props.servicePrincipal },
          Action: "sts:AssumeRole",
          ...(props.trustConditions ? { Condition: props.trustConditions } : {}),
        }),
      ),
    });
    this.roleArn = this.role.arn;
    this.roleName = this.role.name;
    new IamRolePolicy(this, "permissions", {
      name: "least-privilege",
      role: this.role.id,
      policy: renderPolicy(this.permissions),
    });
  }
}
