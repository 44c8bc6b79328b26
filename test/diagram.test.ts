import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDiagram, renderMarkdown, replaceBetweenMarkers } from '../scripts/diagram';
import { sharedSynth } from './helpers/synth';

describe('architecture diagram', () => {
  let diagram: ReturnType<typeof buildDiagram>;
  beforeAll(async () => {
    diagram = buildDiagram((await sharedSynth()).assembly.directory, 'prod');
  });

  it('shows the main components and their connections', () => {
    for (const edge of [
      'internet --> alb_ALB_ServiceLoadBalancer',
      'targets_ServiceBlueTargetGroup --> services_ServiceBlueService',
      'targets_ServiceGreenTargetGroup --> services_ServiceGreenService',
      'services_ServiceBlueService --> data_RDS_DatabaseInstance',
      'services_ServiceBlueService --> data_Valkey_CacheReplicationGroup',
      'schedules_Schedule_BatchSchedule --> workflows_BatchStateMachine',
      'workflows_BatchStateMachine --> tasks_BatchTaskDefinition_task',
      'budgets --> topics_SNS_BudgetGuardKillSwitchTopic',
      'topics_SNS_BudgetGuardKillSwitchTopic --> lambdas__budget_guard',
      'rules_Rule_RemediationAlarmRule --> lambdas__remediation',
      'rules_Rule_TrafficShifterP0Rule --> lambdas__traffic_rollback',
      'schedules_Schedule_HealthCheckMorning --> lambdas__health_check',
      'lambdas__budget_guard --> data_DynamoDB_OpsTable',
    ])
      expect(diagram).toContain(`  ${edge}\n`);
    expect(diagram).not.toMatch(/[0-9a-f]{64}/);
  });

  it('is the picture in the README (run `npm run diagram` after changing the infrastructure)', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    expect(readme, 'the README picture is stale: run `npm run diagram`').toBe(
      replaceBetweenMarkers(readme, diagram),
    );
  });

  it('matches docs/architecture.md (run `npm run diagram` after changing the infrastructure)', () => {
    const committed = readFileSync(join(__dirname, '..', 'docs', 'architecture.md'), 'utf8');
    expect(committed, 'docs/architecture.md is stale: run `npm run diagram`').toBe(
      renderMarkdown(diagram, 'prod'),
    );
  });
});
