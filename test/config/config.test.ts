import { describe, expect, it } from 'vitest';
import {
  appSettingsEnvironment,
  ConfigError,
  ENVIRONMENTS,
  type EnvironmentConfigInput,
  loadEnvironmentConfig,
  parseEnvironmentConfig,
  selectEnvironments,
} from '../../lib/config';

/** A deep copy of an environment's values with one change applied. */
function variant(
  name: keyof typeof ENVIRONMENTS,
  mutate: (c: EnvironmentConfigInput & Record<string, any>) => void,
): unknown {
  const copy = structuredClone(ENVIRONMENTS[name]) as EnvironmentConfigInput & Record<string, any>;
  mutate(copy);
  return copy;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('environment config', () => {
  it('validates dev, staging and prod as committed', () => {
    expect(selectEnvironments(undefined).map((c) => c.envName)).toEqual(['dev', 'staging', 'prod']);
  });

  it("defaults the application settings to the runbook's values", () => {
    expect(loadEnvironmentConfig('prod').app).toEqual({
      batchMaxConcurrency: 100,
      embeddingBatchSize: 100,
      embeddingCacheTtlSeconds: 604_800,
      dbPoolSize: 20,
      dbMaxOverflow: 30,
      redisMaxConnections: 50,
      enableHaikuRouting: true,
      wordCountTargets: { hook: [25, 50], medium: [100, 150], expanded: [200, 250] },
      hallucination: {
        layerWeights: { cross_source: 0.5, temporal: 0.2, uncertainty: 0.3 },
        riskThresholds: { critical: 0.7, high: 0.6, medium: 0.4, low: 0 },
      },
      modelRouting: {
        hook_summary: 'SIMPLE',
        medium_summary: 'MODERATE',
        expanded_summary: 'COMPLEX',
        fact_check: 'COMPLEX',
      },
    });
  });

  it('lets an environment override one setting, e.g. the cost action of a 30-day cache', () => {
    const config = parseEnvironmentConfig(
      'prod',
      variant('prod', (c) => {
        c.app = { embeddingCacheTtlSeconds: 2_592_000 };
      }),
    );
    expect(config.app.embeddingCacheTtlSeconds).toBe(2_592_000);
    expect(config.app.batchMaxConcurrency).toBe(100);
  });

  it('selects a comma-separated list of environments from the env context', () => {
    expect(selectEnvironments('prod, dev').map((c) => c.envName)).toEqual(['prod', 'dev']);
  });

  it('rejects an unknown environment name and lists the valid ones', () => {
    expect(() => loadEnvironmentConfig('qa')).toThrow(
      "Unknown environment 'qa': expected one of dev, staging, prod",
    );
  });

  it('rejects a non-string env context', () => {
    expect(() => selectEnvironments(42)).toThrow(/Context 'env' must be a string/);
  });

  it('names the environment, the field and the rule for a negative count', () => {
    const error = errorOf(() =>
      parseEnvironmentConfig(
        'staging',
        variant('staging', (c) => {
          c.service.blue.desiredCount = -1;
        }),
      ),
    );
    expect(error.message).toContain("Invalid config for environment 'staging'");
    expect(error.message).toContain('service.blue.desiredCount: must not be negative');
  });

  it('rejects weights that do not sum to 100', () => {
    const error = errorOf(() =>
      parseEnvironmentConfig(
        'prod',
        variant('prod', (c) => {
          c.traffic = { blueWeight: 90, greenWeight: 20 };
        }),
      ),
    );
    expect(error.message).toMatch(/'prod'[\s\S]*traffic: blueWeight \+ greenWeight must sum to 100/);
  });

  it('rejects minCount above maxCount', () => {
    const error = errorOf(() =>
      parseEnvironmentConfig(
        'dev',
        variant('dev', (c) => {
          c.service.green = { imageTag: 'v1', desiredCount: 3, minCount: 3, maxCount: 2 };
        }),
      ),
    );
    expect(error.message).toContain('service.green.minCount: must be <= maxCount (3 > 2)');
  });

  it('rejects a desired count outside the scaling bounds', () => {
    const error = errorOf(() =>
      parseEnvironmentConfig(
        'dev',
        variant('dev', (c) => {
          c.service.blue.desiredCount = 5;
        }),
      ),
    );
    expect(error.message).toContain(
      'service.blue.desiredCount: must be between minCount and maxCount (1..2), got 5',
    );
  });

  it('rejects a malformed certificate ARN', () => {
    const error = errorOf(() =>
      parseEnvironmentConfig(
        'prod',
        variant('prod', (c) => {
          c.tls.certificateArn = 'arn:aws:iam::222222222222:server-certificate/x';
        }),
      ),
    );
    expect(error.message).toContain("'prod'");
    expect(error.message).toContain('tls.certificateArn: must be an ACM certificate ARN');
  });

  it('rejects a certificate of another region or account', () => {
    const error = errorOf(() =>
      parseEnvironmentConfig(
        'prod',
        variant('prod', (c) => {
          c.tls.certificateArn =
            'arn:aws:acm:eu-west-1:111111111111:certificate/66666666-7777-4888-9999-000000000000';
        }),
      ),
    );
    expect(error.message).toContain("must be in the environment's region us-east-1");
    expect(error.message).toContain("must belong to the environment's account 222222222222");
  });

  it('rejects a malformed alert email', () => {
    const error = errorOf(() =>
      parseEnvironmentConfig(
        'prod',
        variant('prod', (c) => {
          c.alerts.emails = ['oncall-at-example.com'];
        }),
      ),
    );
    expect(error.message).toContain('alerts.emails.0: must be an email address');
  });

  it('rejects a non-https chat webhook', () => {
    const error = errorOf(() =>
      parseEnvironmentConfig(
        'staging',
        variant('staging', (c) => {
          c.alerts.chatWebhookUrl = 'http://hooks.example.com/x';
        }),
      ),
    );
    expect(error.message).toContain('alerts.chatWebhookUrl: must be an https:// URL');
  });

  it('refuses HTTP-only outside dev', () => {
    const error = errorOf(() =>
      parseEnvironmentConfig(
        'staging',
        variant('staging', (c) => {
          c.tls = { allowHttpOnly: true };
        }),
      ),
    );
    expect(error.message).toContain('tls.certificateArn: is required outside dev');
  });

  it('refuses HTTP-only in dev unless config says so explicitly', () => {
    const error = errorOf(() =>
      parseEnvironmentConfig(
        'dev',
        variant('dev', (c) => {
          c.tls = {};
        }),
      ),
    );
    expect(error.message).toContain(
      'tls.certificateArn: is required unless tls.allowHttpOnly is set to true explicitly',
    );
  });

  it('refuses prod without termination protection', () => {
    const error = errorOf(() =>
      parseEnvironmentConfig(
        'prod',
        variant('prod', (c) => {
          c.protection.terminationProtection = false;
        }),
      ),
    );
    expect(error.message).toContain('protection: prod must keep terminationProtection and retainData on');
  });

  it('rejects a memory size Fargate does not offer for the CPU size', () => {
    const error = errorOf(() =>
      parseEnvironmentConfig(
        'prod',
        variant('prod', (c) => {
          c.service.memoryMiB = 512;
        }),
      ),
    );
    expect(error.message).toContain(
      'service.memoryMiB: must be a Fargate memory size for cpu 512: 1024..4096 MiB',
    );
  });

  it('rejects a log retention CloudWatch does not offer', () => {
    const error = errorOf(() =>
      parseEnvironmentConfig(
        'prod',
        variant('prod', (c) => {
          c.service.logRetentionDays = 100;
        }),
      ),
    );
    expect(error.message).toContain('service.logRetentionDays: must be a CloudWatch Logs retention in days');
  });

  it('rejects a light-check reminder that would come before the next check', () => {
    const error = errorOf(() =>
      parseEnvironmentConfig(
        'staging',
        variant('staging', (c) => {
          c.observability = { lightCheckMinutes: 30, lightCheckRenotifyMinutes: 15 };
        }),
      ),
    );
    expect(error.message).toContain(
      'observability.lightCheckRenotifyMinutes: must be at least lightCheckMinutes',
    );
  });

  it('rejects more NAT gateways than zones', () => {
    const error = errorOf(() =>
      parseEnvironmentConfig(
        'dev',
        variant('dev', (c) => {
          c.network.natGateways = 3;
        }),
      ),
    );
    expect(error.message).toContain('network.natGateways: must not exceed maxAzs');
  });

  it.each([
    [10, 'backups.dumpStorageGiB: must be at least 21 (Fargate ephemeral storage)'],
    [500, 'backups.dumpStorageGiB: must be at most 200 (Fargate ephemeral storage)'],
  ])('rejects a dump disk of %i GiB, naming the field and the rule', (size, message) => {
    const error = errorOf(() =>
      parseEnvironmentConfig(
        'prod',
        variant('prod', (c) => {
          c.backups = { dumpStorageGiB: size };
        }),
      ),
    );
    expect(error.message).toContain(message);
  });

  it('reports every broken field of an environment in one message', () => {
    const error = errorOf(() =>
      parseEnvironmentConfig(
        'prod',
        variant('prod', (c) => {
          c.region = 'us-east';
          c.account = '1234';
        }),
      ),
    );
    expect(error.message).toContain('region: must be an AWS region');
    expect(error.message).toContain('account: must be a 12-digit AWS account id');
  });

  it('rejects config filed under the wrong environment key', () => {
    expect(() => parseEnvironmentConfig('staging', ENVIRONMENTS.prod)).toThrow(
      "envName: must match the environment's key (got 'prod')",
    );
  });

  it('maps the settings to the environment variables pydantic reads', () => {
    const env = appSettingsEnvironment('prod', loadEnvironmentConfig('prod').app);
    expect(env).toMatchObject({
      ENVIRONMENT: 'prod',
      BATCH_MAX_CONCURRENCY: '100',
      EMBEDDING_CACHE_TTL: '604800',
      DB_POOL_SIZE: '20',
      DB_MAX_OVERFLOW: '30',
      REDIS_MAX_CONNECTIONS: '50',
      ENABLE_HAIKU_ROUTING: 'true',
    });
    expect(JSON.parse(env.WORD_COUNT_TARGETS ?? '')).toEqual({
      hook: [25, 50],
      medium: [100, 150],
      expanded: [200, 250],
    });
    expect(JSON.parse(env.HALLUCINATION_LAYER_WEIGHTS ?? '')).toEqual({
      cross_source: 0.5,
      temporal: 0.2,
      uncertainty: 0.3,
    });
    expect(JSON.parse(env.HALLUCINATION_RISK_THRESHOLDS ?? '')).toEqual({
      critical: 0.7,
      high: 0.6,
      medium: 0.4,
      low: 0,
    });
    expect(JSON.parse(env.MODEL_ROUTING ?? '')).toMatchObject({
      medium_summary: 'MODERATE',
      fact_check: 'COMPLEX',
    });
  });
});

describe('hallucination detector and model routing settings', () => {
  const appError = (app: Record<string, unknown>) =>
    errorOf(() =>
      parseEnvironmentConfig(
        'prod',
        variant('prod', (c) => {
          c.app = app;
        }),
      ),
    ).message;

  it("takes the runbook's adjusted weights (cross_source 0.4, temporal 0.3) as an override", () => {
    const config = parseEnvironmentConfig(
      'prod',
      variant('prod', (c) => {
        c.app = { hallucination: { layerWeights: { cross_source: 0.4, temporal: 0.3, uncertainty: 0.3 } } };
      }),
    );
    expect(config.app.hallucination.layerWeights.cross_source).toBe(0.4);
    expect(config.app.hallucination.riskThresholds.critical).toBe(0.7);
  });

  it('rejects layer weights that do not sum to 1, naming the field and the sum', () => {
    expect(
      appError({ hallucination: { layerWeights: { cross_source: 0.5, temporal: 0.3, uncertainty: 0.3 } } }),
    ).toContain(
      'app.hallucination.layerWeights: must sum to 1 (cross_source + temporal + uncertainty), got 1.1',
    );
  });

  it('rejects a weight outside 0..1 and an unknown layer', () => {
    expect(
      appError({ hallucination: { layerWeights: { cross_source: 1.2, temporal: -0.2, uncertainty: 0 } } }),
    ).toContain('app.hallucination.layerWeights.cross_source: must be between 0 and 1');
    expect(
      appError({
        hallucination: { layerWeights: { cross_source: 0.4, temporal: 0.3, uncertainty: 0.3, semantic: 0 } },
      }),
    ).toMatch(/app\.hallucination\.layerWeights: .*semantic/);
  });

  it('rejects risk thresholds that are not strictly ordered', () => {
    expect(
      appError({ hallucination: { riskThresholds: { critical: 0.6, high: 0.6, medium: 0.4, low: 0 } } }),
    ).toContain(
      'app.hallucination.riskThresholds: must be strictly ordered critical > high > medium > low, got 0.6 / 0.6 / 0.4 / 0',
    );
  });

  it("routes a task to another complexity (the runbook's 'Increase Haiku usage')", () => {
    const config = parseEnvironmentConfig(
      'prod',
      variant('prod', (c) => {
        c.app = {
          modelRouting: {
            hook_summary: 'SIMPLE',
            medium_summary: 'SIMPLE',
            expanded_summary: 'SIMPLE',
            fact_check: 'COMPLEX',
          },
        };
      }),
    );
    expect(config.app.modelRouting.expanded_summary).toBe('SIMPLE');
  });

  it('rejects an unknown complexity and a missing task, naming them', () => {
    const message = appError({
      modelRouting: { hook_summary: 'TRIVIAL', medium_summary: 'SIMPLE', expanded_summary: 'MODERATE' },
    });
    expect(message).toContain('app.modelRouting.hook_summary');
    expect(message).toContain('app.modelRouting.fact_check');
  });
});
