import { DefaultLogger, Runtime } from '@temporalio/worker';
import { awaitSuccess, createVms, enlargeNodes, postRetrying, QUICK, report, round, rssMibOf, startBenchStack } from './support';

/**
 * What the worker's cache size (WORKER_MAX_CACHED_WORKFLOWS) costs and buys: N stops at once (more than the smaller
 * cache holds, so its workflows are evicted and replayed), on a stack whose worker caches half as many as N and on one
 * caching N (the default, WORKER_MAX_CACHED_WORKFLOWS_DEFAULT, at the full size); throughput and the worker's memory
 * afterwards. Sizes: --quick 100 (caches 50 and 100); otherwise 1,000 (500 and 1,000).
 */
async function measure(cache: number, n: number): Promise<Record<string, string | number>> {
  const stack = await startBenchStack({ WORKER_MAX_CACHED_WORKFLOWS: String(cache) });
  try {
    await enlargeNodes(stack);
    const vms = await createVms(stack, n, { start: true, parallel: 50, prefix: `c${cache}` });
    let retried = 0;
    const t0 = performance.now();
    await Promise.all(
      vms.map(async (id) => {
        const posted = await postRetrying(stack, 'POST', `/v1/vms/${id}/stop`, {}, () => (retried += 1));
        await awaitSuccess(stack, posted.body.id);
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const worker = stack.processes().find((p) => p.kind === 'worker');
    return {
      'worker cache (workflows)': cache,
      [`${n} concurrent vm.stop, ops/s`]: round(n / seconds, 1),
      'starts answered 503 and sent again': retried,
      'worker RSS MiB after': worker ? round(rssMibOf(worker.pid), 0) : '',
    };
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const n = QUICK ? 100 : 1000;
  const small = QUICK ? 50 : 500;
  const rows = [await measure(small, n), await measure(2 * small, n)];
  const key = `${n} concurrent vm.stop, ops/s`;
  const ratio = round(Number(rows[0][key]) / Number(rows[1][key]));
  report('worker-cache', rows, { [`ops/s, cache ${small} / cache ${2 * small}`]: ratio });
  console.log(`ops/s, cache ${small} / cache ${2 * small}: ${ratio}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
