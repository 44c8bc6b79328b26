/** Memory of RDS instance sizes (GiB), for the default max_connections estimate. */
const MEMORY_GIB_BY_SIZE: Readonly<Record<string, number>> = {
  micro: 1,
  small: 2,
  medium: 4,
  large: 8,
  xlarge: 16,
  '2xlarge': 32,
  '4xlarge': 64,
};

/**
 * RDS PostgreSQL's default max_connections: LEAST(DBInstanceClassMemory / 9531392, 5000).
 * Burstable (t) and general purpose (m) classes have the memory above per size; memory
 * optimised (r, x) classes double it. Unknown classes need `database.maxConnections`.
 */
export function estimateMaxConnections(instanceClass: string): number {
  const [family = '', size = ''] = instanceClass.split('.');
  const base = MEMORY_GIB_BY_SIZE[size];
  if (base === undefined || !/^[tmrx]\d/.test(family)) {
    throw new Error(
      `Cannot estimate max_connections of db.${instanceClass}: set database.maxConnections in config for it`,
    );
  }
  const gib = /^[rx]/.test(family) ? base * 2 : base;
  return Math.min(Math.floor((gib * 1024 ** 3) / 9_531_392), 5000);
}
