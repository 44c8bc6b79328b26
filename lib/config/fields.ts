/** Field types the environment schema's sections share, each with the rule its message names. */
import { z } from 'zod';

/** Fargate only accepts these memory sizes (MiB) for each CPU size (units). */
export const FARGATE_MEMORY_BY_CPU: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: [1024, 2048, 3072, 4096],
  1024: [2048, 3072, 4096, 5120, 6144, 7168, 8192],
  2048: Array.from({ length: 13 }, (_, i) => 4096 + i * 1024),
  4096: Array.from({ length: 23 }, (_, i) => 8192 + i * 1024),
};

/** Refinement of a task's sizes (service, batch): its memoryMiB must be one Fargate accepts for its cpu. */
export function checkFargateMemory(task: { cpu: number; memoryMiB: number }, ctx: z.RefinementCtx): void {
  const allowed = FARGATE_MEMORY_BY_CPU[task.cpu] ?? [];
  if (!allowed.includes(task.memoryMiB)) {
    ctx.addIssue({
      code: 'custom',
      path: ['memoryMiB'],
      message: `must be a Fargate memory size for cpu ${task.cpu}: ${allowed[0]}..${allowed.at(-1)} MiB (got ${task.memoryMiB})`,
    });
  }
}

/** Retention periods CloudWatch Logs accepts (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const logRetentionDays = z
  .number()
  .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
    message: `must be a CloudWatch Logs retention in days: ${LOG_RETENTION_DAYS.join(', ')}`,
  });

export const count = z.number().int('must be a whole number').nonnegative('must not be negative');
export const percent = z.number().int('must be a whole number').min(0).max(100);

export const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
export const region = z
  .string()
  .regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, 'must be an AWS region such as us-east-1');
export const acmCertificateArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/,
    'must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>)',
  );
export const httpsUrl = z.url({ protocol: /^https$/, error: 'must be an https:// URL' });
export const logicalName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,62}$/, 'must be lowercase letters, digits and hyphens, starting with a letter');

export const dollars = z.number().positive('must be a positive amount in USD');
