import { DefaultLogger, Runtime } from '@temporalio/worker';
import {
  awaitSuccess,
  createVms,
  enlargeNodes,
  percentile,
  postRetrying,
  QUICK,
  report,
  round,
  seedRunningVms,
  startBenchStack,
  withDatabase,
  type BenchStack,
} from './support';

/**
 * One tenant's burst against another tenant's operations: the demo tenant launches N stops at once (50 at a time,
 * as fast as the API takes them), and meanwhile the operator tenant starts or stops one of its 20 VMs every second. Measured twice, on a stack whose Temporal server dispatches a backlog in turn by
 * fairness key (the stack's default: every operation's key is its tenant) and on one that dispatches first in,
 * first out (`TEMPORAL_DEV_DYNAMIC_CONFIG=matching.enableFairness=false`): the other tenant's latency during the
 * burst against its latency on the idle stack, and what fairness costs the burst.
 * Sizes: --quick 100; otherwise 1,000; --size=N runs N alone.
 */

/** POST → /wait answered, in ms; throws unless the operation succeeded. */
async function timed(stack: BenchStack, key: string, route: string, body: unknown): Promise<number> {
  const t0 = performance.now();
  const posted = await postRetrying(stack, 'POST', route, body, undefined, key);
  await awaitSuccess(stack, posted.body.id, key);
  return performance.now() - t0;
}

/**
 * The other tenant's operations, open loop: one a second (a start of a stopped probe VM, or a forced stop of a
 * running one (`running` holds which are), whichever of its VMs is free), however long the ones before it take,
 * until `done()`. Their latencies.
 */
async function probe(stack: BenchStack, vms: string[], running: Set<string>, done: () => boolean): Promise<number[]> {
  const free = [...vms];
  const latencies: number[] = [];
  const inFlight: Promise<void>[] = [];
  while (!done()) {
    const vmId = free.shift();
    if (vmId) {
      inFlight.push(
        (async () => {
          const on = running.has(vmId);
          latencies.push(await timed(stack, stack.adminKey, `/v1/vms/${vmId}/${on ? 'stop' : 'start'}`, on ? { force: true } : {}));
          if (on) running.delete(vmId);
          else running.add(vmId);
          free.push(vmId);
        })(),
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  await Promise.all(inFlight);
  return latencies;
}

async function finishedStops(stack: BenchStack, vms: string[]): Promise<number> {
  return withDatabase(stack, async (db) =>
    Number(
      (
        await db.query(
          `SELECT count(*) AS n FROM operations WHERE type = 'vm.stop' AND finished_at IS NOT NULL AND vm_id = ANY($1::uuid[])`,
          [vms],
        )
      ).rows[0].n,
    ),
  );
}

async function measure(fair: boolean, n: number): Promise<Record<string, string | number>> {
  const stack = await startBenchStack(fair ? {} : { TEMPORAL_DEV_DYNAMIC_CONFIG: 'matching.enableFairness=false' });
  try {
    await enlargeNodes(stack);
    const probes = await createVms(stack, 20, { start: false, prefix: 'probe', key: stack.adminKey });
    const vms = await seedRunningVms(stack, n, 'burst');
    const idleUntil = Date.now() + 15_000;
    const running = new Set<string>();
    const idle = await probe(stack, probes, running, () => Date.now() > idleUntil);

    const t0 = performance.now();
    let next = 0;
    let launchedAt = 0;
    const launching = Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < vms.length) await postRetrying(stack, 'POST', `/v1/vms/${vms[next++]}/stop`, {});
      }),
    ).then(() => (launchedAt = performance.now()));
    let burstDone = false;
    const probing = probe(stack, probes, running, () => burstDone);
    await launching;
    for (;;) {
      if ((await finishedStops(stack, vms)) >= n) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const burstSeconds = (performance.now() - t0) / 1000;
    burstDone = true;
    const during = await probing;
    const idleP50 = percentile(idle, 50);
    return {
      dispatch: fair ? 'fair (by tenant)' : 'first in, first out',
      'burst: operations': n,
      'burst: launched in s': round((launchedAt - t0) / 1000, 0),
      'burst: done in s': round(burstSeconds, 0),
      'burst ops/s': round(n / burstSeconds, 1),
      'other tenant: operations during the burst': during.length,
      'other tenant idle p50 ms': round(idleP50, 0),
      'other tenant during p50 / p90 / max ms': `${round(percentile(during, 50), 0)} / ${round(percentile(during, 90), 0)} / ${round(Math.max(...during), 0)}`,
      'during p50/idle p50': round(percentile(during, 50) / idleP50),
      'during p90/idle p50': round(percentile(during, 90) / idleP50),
    };
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const only = process.argv.find((arg) => arg.startsWith('--size='));
  const n = only ? Number(only.slice('--size='.length)) : QUICK ? 100 : 1000;
  if (!Number.isInteger(n) || n < 1) throw new Error(`--size wants a whole number of operations, got ${only}`);
  const fifo = await measure(false, n);
  const fair = await measure(true, n);
  const ratio = (key: string) => round(Number(fair[key]) / Number(fifo[key]));
  const ratios = {
    "fair/fifo: the other tenant's p50 during the burst": ratio('during p50/idle p50'),
    "fair/fifo: the other tenant's p90 during the burst": ratio('during p90/idle p50'),
    "fair/fifo: the burst's ops/s": ratio('burst ops/s'),
  };
  report('fairness', [fifo, fair], { ratios });
  for (const [what, value] of Object.entries(ratios)) console.log(`${what}: ${value}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
