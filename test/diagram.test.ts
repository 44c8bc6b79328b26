import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDiagram, LEGEND, renderMarkdown, replaceBetweenMarkers } from '../scripts/diagram';
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

  it('points each arrow the way things flow, and draws only real access', () => {
    for (const edge of [
      'alb_ALB_ServiceLoadBalancer --> targets_ServiceBlueTargetGroup',
      'lambdas__health_check --> topics_SNS_AlertsP0',
      'lambdas__db_migrate --> data_RDS_DatabaseInstance',
      'lambdas__budget_guard --> schedules_Schedule_BatchSchedule',
      'alarms --> rules_Rule_TrafficShifterP0Rule',
    ])
      expect(diagram).toContain(`  ${edge}\n`);
    // What only shares a key, a role or a secret with something that reads them is not linked:
    // db-maintenance reads the database secret, not the API keys or the cache the tasks read.
    const from = (node: string) =>
      diagram
        .split('\n')
        .filter((l) => l.startsWith(`  ${node} --> `))
        .map((l) => l.slice(`  ${node} --> `.length));
    expect(from('lambdas__db_maintenance')).toEqual([
      'data_RDS_DatabaseInstance',
      expect.stringMatching(/^secrets_Secret_DatabaseInstanceSecret/),
    ]);
    expect(from('workflows_TrafficShifterStateMachine')).toEqual(['lambdas__traffic_shift']);
    // Nothing flows out of a topic but to its subscribers, nor out of a target group but to its service.
    expect(from('topics_SNS_AlertsP0')).toEqual([]);
    expect(from('targets_ServiceBlueTargetGroup')).toEqual(['services_ServiceBlueService']);
    expect(diagram).not.toContain('alb_ALB_ServiceLoadBalancer --> lambdas');
  });

  it('links a Lambda to another only where it makes it run: the verifier its schedules invoke', () => {
    // A role ARN in a function's environment (the scheduler role it passes) is not one it runs
    // with: every Lambda naming it is not therefore every other.
    const lambdaToLambda = diagram
      .split('\n')
      .filter((l) => /^ {2}lambdas__\S+ --> lambdas__/.test(l))
      .map((l) => l.trim());
    expect(lambdaToLambda.length).toBeGreaterThan(0);
    for (const edge of lambdaToLambda) expect(edge).toMatch(/ --> lambdas__automation_verify$/);
    expect(lambdaToLambda).toContain('lambdas__spend_guard --> lambdas__automation_verify');
  });

  it('is the picture in the README (run `npm run diagram` after changing the infrastructure)', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    expect(readme, 'the README picture is stale: run `npm run diagram`').toBe(
      replaceBetweenMarkers(readme, diagram),
    );
    expect(readme.replace(/\s+/g, ' '), 'the README says what an arrow means').toContain(LEGEND);
  });

  it('matches docs/architecture.md (run `npm run diagram` after changing the infrastructure)', () => {
    const committed = readFileSync(join(__dirname, '..', 'docs', 'architecture.md'), 'utf8');
    expect(committed, 'docs/architecture.md is stale: run `npm run diagram`').toBe(
      renderMarkdown(diagram, 'prod'),
    );
  });
});
