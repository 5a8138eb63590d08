import { Client, Connection } from '@temporalio/client';
import { AGENT_SLOT_DEFAULTS, WORKER_MAX_CACHED_WORKFLOWS_DEFAULT } from '@vmops/config';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { api, createVms, enlargeNodes, QUICK, report, round, rssMibOf, seedRunningVms, startBenchStack, type BenchStack } from './support';

/**
 * Memory with many operations parked on a slow driver call: N stops whose guests take ten minutes to power off
 * (the simulated driver's stopVm latency), against the same processes idle; and whether a node busy with them
 * still serves a short call at once (a start's latency, parked vs idle). Baseline, on the same Temporal server: as
 * many bare workflows parked on one heartbeating activity each (bareParked): what the worker grows by at the same
 * cache size, and what the agents hold per running call, ours against bare.
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

interface BareParked {
  worker: { idle: number; parked: number };
  agent: { idle: number; parked: number };
  running: number;
}

/** One process of the bare baseline (bare-parked.process.ts); resolves once it is ready, with its last `running` count. */
async function bareProcess(role: 'worker' | 'agent', address: string, queue: string, size: number) {
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(__dirname, 'bare-parked.process.js'), role, address, queue, String(size)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const state = { running: 0, ready: false };
  child.stdout!.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (line === 'ready') state.ready = true;
      const running = /^running (\d+)$/.exec(line);
      if (running) state.running = Number(running[1]);
    }
  });
  const deadline = Date.now() + 120_000;
  while (!state.ready) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the bare ${role} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, state };
}

/**
 * The baseline, on the stack's own Temporal server: the same number of bare workflows, each parked on one activity
 * that waits, heartbeating, on a second queue; a bare workflow worker caching as many workflows as ours does, and
 * one bare activity worker with as many slots as our agents have together.
 */
async function bareParked(stack: BenchStack, parked: number, cache: number, slots: number): Promise<BareParked> {
  const suffix = Math.random().toString(36).slice(2, 8);
  const [workflowQueue, activityQueue] = [`bench-parked-${suffix}`, `bench-parked-${suffix}.long`];
  const worker = await bareProcess('worker', stack.temporalAddress, workflowQueue, cache);
  const agent = await bareProcess('agent', stack.temporalAddress, activityQueue, slots);
  const connection = await Connection.connect({ address: stack.temporalAddress });
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const idle = { worker: rssMibOf(worker.child.pid!), agent: rssMibOf(agent.child.pid!) };
    const client = new Client({ connection });
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < parked) {
          const i = next++;
          await client.workflow.start('parkedWorkflow', {
            taskQueue: workflowQueue,
            workflowId: `${workflowQueue}-${i}`,
            args: [activityQueue],
          });
        }
      }),
    );
    const deadline = Date.now() + 30 * 60_000;
    while (agent.state.running < Math.min(parked, slots) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1000));
    await new Promise((r) => setTimeout(r, 5000));
    return {
      worker: { idle: idle.worker, parked: rssMibOf(worker.child.pid!) },
      agent: { idle: idle.agent, parked: rssMibOf(agent.child.pid!) },
      running: agent.state.running,
    };
  } finally {
    worker.child.kill('SIGKILL');
    agent.child.kill('SIGKILL');
    await connection.close();
  }
}

async function measure(parked: number): Promise<Record<string, string | number>> {
  // Per node (two nodes): the long calls that run at once; the others wait in the node's long queue.
  const longSlots = Number(process.env.AGENT_MAX_LONG_CALLS || AGENT_SLOT_DEFAULTS.maxLongCalls);
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
      calls = (await api(stack, 'GET', '/v1/admin/simulator/calls?method=stopVm', undefined, stack.adminKey)).body.count;
      if (calls >= Math.min(parked, 2 * longSlots)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const launchSeconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 5000));
    const busy = memory(stack);
    const busyStart = await startLatency(stack, probe, 5);
    const ours = (m: Record<string, number>) => (m.worker ?? 0) + (m.agent ?? 0);
    const cache = Number(process.env.WORKER_MAX_CACHED_WORKFLOWS || WORKER_MAX_CACHED_WORKFLOWS_DEFAULT);
    const bare = await bareParked(stack, parked, cache, 2 * longSlots);
    const perCallKib = (idleMib: number, parkedMib: number, running: number) => ((parkedMib - idleMib) * 1024) / Math.max(running, 1);
    const oursPerCall = perCallKib(idle.agent ?? 0, busy.agent ?? 0, calls);
    const barePerCall = perCallKib(bare.agent.idle, bare.agent.parked, bare.running);
    const oursWorker = (busy.worker ?? 0) - (idle.worker ?? 0);
    const bareWorker = bare.worker.parked - bare.worker.idle;
    return {
      what: `${parked} operations parked on a slow driver call`,
      'worker + agents RSS MiB, idle → parked': `${round(ours(idle), 0)} → ${round(ours(busy), 0)} (worker ${round(idle.worker ?? 0, 0)} → ${round(busy.worker ?? 0, 0)}, agents ${round(idle.agent ?? 0, 0)} → ${round(busy.agent ?? 0, 0)})`,
      'API / Temporal / PostgreSQL RSS MiB, parked': `${round(busy.api ?? 0, 0)} / ${round(busy.temporal ?? 0, 0)} / ${round(busy.postgres ?? 0, 0)}`,
      'driver calls running': calls,
      'a start on the node, idle → parked, ms': `${round(idleStart, 0)} → ${round(busyStart, 0)}`,
      'parked/idle start': round(busyStart / idleStart),
      'target: worker + agents ≤ 1024 MiB': ours(busy) <= 1024 ? 'met' : 'missed',
      'launch s': round(launchSeconds, 0),
      [`worker growth MiB (cache ${cache}), ours / bare`]: `${round(oursWorker, 0)} / ${round(bareWorker, 0)} (${round(oursWorker / bareWorker)}×)`,
      'agent KiB per running call, ours / bare': `${round(oursPerCall, 0)} / ${round(barePerCall, 0)} (${round(oursPerCall / barePerCall)}×)`,
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
