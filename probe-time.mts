import { readFileSync } from 'node:fs';
import { deploymentOf } from './test/iam/deployment';
import { deploymentRequests } from './test/iam/requests';
import { evaluate, PolicyIndex } from './test/iam/evaluate';
for (const env of ['prod', 'staging', 'dev'] as const) {
  const acct = env === 'prod' ? '222222222222' : env === 'staging' ? '111111111111' : '123456789012';
  let t = performance.now();
  const d = deploymentOf(env, (tier) => JSON.parse(readFileSync(`cdk.out/fa-ai-system-${env}-${tier}.template.json`, 'utf8')), acct, 'us-east-1');
  const t1 = performance.now();
  const reqs = await deploymentRequests(d);
  const t2 = performance.now();
  const index = new PolicyIndex(d);
  const t3 = performance.now();
  await Promise.all(reqs.map((r) => evaluate(index, r)));
  const t4 = performance.now();
  console.log(env, 'resolver', (t1 - t).toFixed(0), 'requests', (t2 - t1).toFixed(0), 'index', (t3 - t2).toFixed(0), 'eval', (t4 - t3).toFixed(0), reqs.length);
}
