import { DefaultLogger, Runtime } from '@temporalio/worker';
import {
  api,
  createVms,
  enlargeNodes,
  QUICK,
  report,
  round,
  rssMibOf,
  seedRunningVms,
  startBenchStack,
  withDatabase,
  type BenchStack,
} from './support';

/**
 * Memory with many operations parked on a slow driver call: N stops whose guests take ten minutes to power off
 * (the simulated driver's stopVm latency), against the same processes idle; and whether a node busy with them
 * still serves a short call at once (a start's latency, parked vs idle).
 * Sizes: --quick 100; otherwise 1,000 (and 10,000 with --large, which takes a while to set up on a small machine);
 * --size=N runs N alone.
 */
function memory(stack: BenchStack): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const { kind, pid } of stack.processes()) totals[kind] = (totals[kind] ?? 0) + rssMibOf(pid);
  return totals;
}

/** Waits for the operation to end however long it takes (a starved call is what this bench looks for), up to half an hour. */
async function finished(stack: BenchStack, operationId: string): Promise<void> {
  const deadline = Date.now() + 30 * 60_000;
  while (Date.now() < deadline) {
    const op = await api(stack, 'GET', `/v1/operations/${operationId}/wait?timeout=120`);
    if (op.body.finishedAt) return;
  }
  throw new Error(`operation ${operationId} did not end within 30 minutes`);
}

async function startLatency(stack: BenchStack, vmId: string, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const start = await api(stack, 'POST', `/v1/vms/${vmId}/start`, {});
    await finished(stack, start.body.id);
    times.push(performance.now() - t0);
    const stop = await api(stack, 'POST', `/v1/vms/${vmId}/stop`, { force: true });
    await finished(stack, stop.body.id);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

async function measure(parked: number): Promise<Record<string, string | number>> {
  const stack = await startBenchStack();
  try {
    await enlargeNodes(stack);
    const [probe] = await createVms(stack, 1, { start: false, prefix: 'probe' });
    const vms = await seedRunningVms(stack, parked, 'parked');
    const idle = memory(stack);
    const idleStart = await startLatency(stack, probe, 5);

    // Every stop's driver call waits ten minutes (an unresponsive guest); a forced stop does not wait on the guest.
    await api(stack, 'PUT', '/v1/admin/simulator/latency', { method: 'stopVm', ms: 600_000 }, stack.adminKey);
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < vms.length) await api(stack, 'POST', `/v1/vms/${vms[next++]}/stop`, {});
      }),
    );
    // Parked: every stop's driver call has started (counted by the simulator) or waits for a slot.
    const deadline = Date.now() + 30 * 60_000;
    let calls = 0;
    while (Date.now() < deadline) {
      calls = await withDatabase(stack, async (db) =>
        Number((await db.query(`SELECT coalesce(sum(count), 0) AS n FROM hypervisor_sim.calls WHERE method = 'stopVm'`)).rows[0].n),
      );
      if (calls >= Math.min(parked, 2 * 2000)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const launchSeconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 5000));
    const busy = memory(stack);
    const busyStart = await startLatency(stack, probe, 5);
    const ours = (m: Record<string, number>) => (m.worker ?? 0) + (m.agent ?? 0);
    return {
      what: `${parked} operations parked on a slow driver call`,
      'worker + agents RSS MiB, idle → parked': `${round(ours(idle), 0)} → ${round(ours(busy), 0)} (worker ${round(idle.worker ?? 0, 0)} → ${round(busy.worker ?? 0, 0)}, agents ${round(idle.agent ?? 0, 0)} → ${round(busy.agent ?? 0, 0)})`,
      'API / Temporal / PostgreSQL RSS MiB, parked': `${round(busy.api ?? 0, 0)} / ${round(busy.temporal ?? 0, 0)} / ${round(busy.postgres ?? 0, 0)}`,
      'driver calls running': calls,
      'a start on the node, idle → parked, ms': `${round(idleStart, 0)} → ${round(busyStart, 0)}`,
      'parked/idle start': round(busyStart / idleStart),
      'target: worker + agents ≤ 1024 MiB': ours(busy) <= 1024 ? 'met' : 'missed',
      'launch s': round(launchSeconds, 0),
    };
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  // --size=N: that size alone (e.g. --size=10000 to measure the large case without the 1,000 one before it).
  const only = process.argv.find((arg) => arg.startsWith('--size='));
  const sizes = only ? [Number(only.slice('--size='.length))] : QUICK ? [100] : process.argv.includes('--large') ? [1000, 10_000] : [1000];
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--size wants a whole number of operations, got ${only}`);
  const rows = [];
  for (const n of sizes) rows.push(await measure(n));
  report('parked', rows, { sizes });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
