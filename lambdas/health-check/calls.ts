import { declareCalls } from '../../core/calls';
import { BATCH_RUN_PK, HEALTH_PK } from '../../core/ops-table/keys';

/** What the health check calls (lib/constructs/health-check.ts grants exactly this). */
export const HEALTH_CHECK_CALLS = declareCalls({
  services: { actions: ['ecs:DescribeServices'] },
  // Neither API has resource-level permissions.
  metricsAndTargets: { actions: ['elasticloadbalancing:DescribeTargetHealth', 'cloudwatch:GetMetricData'] },
  batchRuns: { actions: ['dynamodb:Query'], partitions: [BATCH_RUN_PK] },
  // The light check's alert item: what it last paged for, so a problem pages once.
  lightAlert: {
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
    partitions: [HEALTH_PK],
  },
  alerts: { actions: ['sns:Publish'] },
});
