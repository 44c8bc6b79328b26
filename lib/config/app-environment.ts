import type { AppSettings, EnvironmentName } from './schema';

/**
 * The container environment for the application's settings. Names are the settings'
 * snake_case names upper-cased, which is what pydantic BaseSettings reads.
 */
export function appSettingsEnvironment(
  envName: EnvironmentName,
  settings: AppSettings,
): Record<string, string> {
  return {
    ENVIRONMENT: envName,
    LOG_FORMAT: 'json',
    BATCH_MAX_CONCURRENCY: String(settings.batchMaxConcurrency),
    EMBEDDING_BATCH_SIZE: String(settings.embeddingBatchSize),
    EMBEDDING_CACHE_TTL: String(settings.embeddingCacheTtlSeconds),
    DB_POOL_SIZE: String(settings.dbPoolSize),
    DB_MAX_OVERFLOW: String(settings.dbMaxOverflow),
    REDIS_MAX_CONNECTIONS: String(settings.redisMaxConnections),
    ENABLE_HAIKU_ROUTING: String(settings.enableHaikuRouting),
    WORD_COUNT_TARGETS: JSON.stringify(settings.wordCountTargets),
    HALLUCINATION_LAYER_WEIGHTS: JSON.stringify(settings.hallucination.layerWeights),
    HALLUCINATION_RISK_THRESHOLDS: JSON.stringify(settings.hallucination.riskThresholds),
    MODEL_ROUTING: JSON.stringify(settings.modelRouting),
  };
}
