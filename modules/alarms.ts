/**
 * An alarm that pages the platform team: above zero in any five minutes, it publishes to the
 * failure topic (and again when it is back to OK). Missing data is not a breach.
 */
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import type { Construct } from "constructs";

export interface AlarmMetric {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
  /** @default "Sum" */
  readonly statistic?: string;
}

export interface FailureAlarmProps {
  readonly namePrefix: string;
  /** Where the alarm publishes: the failure topic. */
  readonly topicArn: string;
  /** The alarm's name after the prefix, and its construct id after "alarm-". */
  readonly id: string;
  readonly description: string;
  readonly metric: AlarmMetric;
}

export function failureAlarm(scope: Construct, props: FailureAlarmProps): CloudwatchMetricAlarm {
  const { metric } = props;
  return new CloudwatchMetricAlarm(scope, `alarm-${props.id}`, {
    alarmName: `${props.namePrefix}-${props.id}`,
    alarmDescription: props.description,
    namespace: metric.namespace,
    metricName: metric.metricName,
    dimensions: metric.dimensions,
    statistic: metric.statistic ?? "Sum",
    period: 300,
    evaluationPeriods: 1,
    threshold: 0,
    comparisonOperator: "GreaterThanThreshold",
    treatMissingData: "notBreaching",
    alarmActions: [props.topicArn],
    okActions: [props.topicArn],
  });
}
