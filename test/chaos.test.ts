import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { apiClient, stackDataDir, stackEnv, startStack, stopStack, type Reply, type StackProcess } from './support/stack-process';

/**
 * Random kills on the stack as the README starts it: lanes of mixed operations (create, snapshot, migrate,
 * new-disk rollback, stop, start, rebuild), one lane per VM, all at once, while a chaos loop SIGKILLs the worker,
 * an agent or the API at random moments and the stack brings each back. The client does what a careful client
 * does: it retries a request that got no answer (or a 503) with the same Idempotency-Key.
 *
 * CHAOS_LANES sets the lanes (CI: 4, 28 operations; `npm run test:chaos`: 15, 105 operations); CHAOS_LOG names a
 * file that gets the stack's whole output.
 */
const LANES = Number(process.env.CHAOS_LANES ?? 4);
const DEMO_API_KEY = 'vmo_chaos-test-key-0000000000000000';
const TARGETS = ['apps/worker/src/main.js', 'apps/agent/src/main.js', 'apps/api/src/main.js'];

describe('chaos: processes SIGKILLed at random under mixed operations', () => {
  const dataDir = stackDataDir('vmops-chaos-');
  let env: NodeJS.ProcessEnv;
  let stack: StackProcess | null = null;
  const { call, waitFor } = apiClient(() => env.PORT);

  beforeAll(async () => {
    env = await stackEnv(dataDir, {
      DEMO_API_KEY,
      // Each driver call takes a moment, so that kills land in the middle of steps.
      SIM_LATENCY_MS: '150',
      SIM_TRANSFER_STEP_MS: '100',
      SIM_GUEST_SHUTDOWN_MS: '200',
      // An API killed between recording an operation and starting its workflow leaves it pending: settled soon.
      RECONCILE_EVERY_SECONDS: '5',
    });
    stack = await startStack(env);
  });
  afterAll(async () => {
    if (stack && process.env.CHAOS_LOG) writeFileSync(process.env.CHAOS_LOG, stack.output());
    if (stack) await stopStack(stack);
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A request retried, with the same Idempotency-Key, for as long as the API is down or answers 503. */
  const reliably = async (method: string, p: string, body?: unknown): Promise<Reply> => {
    const headers: Record<string, string> = method === 'GET' ? {} : { 'idempotency-key': randomUUID() };
    for (let attempt = 0; attempt < 240; attempt++) {
      const reply = await call(DEMO_API_KEY, method, p, body, headers).catch(() => null);
      if (reply && reply.status !== 503 && reply.status !== 502) return reply;
      if (stack!.proc.exitCode !== null) throw new Error(`the stack exited:\n${stack!.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${method} ${p}: no answer for a minute`);
  };
  const settle = async (operationId: string) => {
    for (;;) {
      try {
        return await waitFor(DEMO_API_KEY, operationId);
      } catch (err) {
        if (stack!.proc.exitCode !== null) throw new Error(`the stack exited:\n${stack!.output().slice(-3000)}`, { cause: err });
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  };

  it(
    `${LANES} lanes of 7 operations each, with the worker, the agents and the API SIGKILLed at random: nothing lost, nothing stuck, audits clean`,
    async () => {
      const templateId = (await reliably('GET', '/v1/templates')).body.items[0].id;
      const accepted: { type: string; id: string }[] = [];
      const refused: string[] = [];
      const launch = async (type: string, method: string, p: string, body?: unknown) => {
        const reply = await reliably(method, p, body);
        if (reply.status !== 202) {
          // What the operation a refusal names was doing then (a lock that outlived its operation shows here).
          const holderId = reply.body?.error?.details?.operationId;
          const holder = holderId ? (await reliably('GET', `/v1/operations/${holderId}`)).body : null;
          refused.push(
            `${type} ${reply.status} ${JSON.stringify(reply.body).slice(0, 200)}` +
              (holder ? ` | holder ${holderId}: ${holder.status}, finishedAt ${holder.finishedAt}, step ${holder.progress?.step}` : ''),
          );
          return null;
        }
        accepted.push({ type, id: reply.body.id });
        return settle(reply.body.id);
      };

      const lane = async (n: number) => {
        let created = await launch('vm.create', 'POST', '/v1/vms', { hostname: `chaos-${n}`, templateId, cpus: 1, memoryMb: 512 });
        // A create that never started made nothing: the lane asks again, as its client would.
        if (created?.error?.code === 'NEVER_STARTED')
          created = await launch('vm.create', 'POST', '/v1/vms', { hostname: `chaos-${n}`, templateId, cpus: 1, memoryMb: 512 });
        if (!created || created.status !== 'succeeded') return;
        const vm = created.vmId;
        await launch('snapshot.create', 'POST', `/v1/vms/${vm}/snapshots`, { name: 'base' });
        await launch('vm.migrate', 'POST', `/v1/vms/${vm}/migrate`, {});
        await launch('disk.rollback', 'POST', `/v1/vms/${vm}/snapshots/base/rollback`, { method: 'new_disk' });
        await launch('vm.stop', 'POST', `/v1/vms/${vm}/stop`, {});
        await launch('vm.start', 'POST', `/v1/vms/${vm}/start`, {});
        await launch('vm.rebuild', 'POST', `/v1/vms/${vm}/rebuild`, {});
      };

      const kills: Record<string, number> = {};
      const lastKill: Record<string, number> = {};
      let chaos = true;
      const loop = (async () => {
        await new Promise((r) => setTimeout(r, 1500));
        while (chaos && stack!.proc.exitCode === null) {
          // Not the same process again before it has been up a while: the stack takes a process that keeps dying
          // within seconds of its start for a crash loop, and stops (as it should for a real one).
          const script = TARGETS[Math.floor(Math.random() * TARGETS.length)];
          const pid = Date.now() - (lastKill[script] ?? 0) > 15_000 ? childPid(stack!.proc.pid!, script) : null;
          if (pid) {
            process.kill(pid, 'SIGKILL');
            lastKill[script] = Date.now();
            kills[script.split('/')[1]] = (kills[script.split('/')[1]] ?? 0) + 1;
          }
          await new Promise((r) => setTimeout(r, 1500 + Math.random() * 2500));
        }
      })();
      const started = Date.now();
      try {
        await Promise.all(Array.from({ length: LANES }, (_, n) => lane(n)));
      } finally {
        chaos = false;
        await loop;
      }
      expect({ stackExited: stack!.proc.exitCode, output: stack!.proc.exitCode === null ? '' : stack!.output().slice(-3000) }).toEqual({
        stackExited: null,
        output: '',
      });

      // Every accepted operation has its final record; none is stuck; every VM is free; every node's audit is clean.
      const finals = await Promise.all(accepted.map((op) => settle(op.id)));
      const byStatus: Record<string, number> = {};
      for (const op of finals) byStatus[op.status] = (byStatus[op.status] ?? 0) + 1;
      console.log(
        `chaos: ${accepted.length} operations accepted in ${((Date.now() - started) / 1000).toFixed(0)} s, final ${JSON.stringify(byStatus)}; ` +
          `refused ${refused.length}; SIGKILLs ${JSON.stringify(kills)}; restarts logged ${(stack!.output().match(/restarting it in/g) ?? []).length}`,
      );
      expect(refused).toEqual([]);
      // The only failures allowed: an operation whose launch the API did not live to finish (NEVER_STARTED: nothing
      // was done, and it says so). Everything else succeeded, through every kill.
      expect(
        finals.filter((op) => op.status !== 'succeeded' && op.error?.code !== 'NEVER_STARTED').map((op) => [op.type, op.status, op.error]),
      ).toEqual([]);
      expect(finals.filter((op) => op.status === 'succeeded').length).toBeGreaterThanOrEqual(LANES * 6);
      expect(Object.values(kills).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);

      const admin = stack!.adminKey();
      const vms = (await call(DEMO_API_KEY, 'GET', '/v1/vms?limit=100')).body.items;
      expect(vms).toHaveLength(finals.filter((op) => op.type === 'vm.create' && op.status === 'succeeded').length);
      expect(vms.filter((v: { currentOperationId: string | null }) => v.currentOperationId !== null)).toEqual([]);
      for (const node of (await call(admin, 'GET', '/v1/nodes')).body.items) {
        const { diff } = (await call(admin, 'GET', `/v1/admin/nodes/${node.id}/audit`)).body;
        expect({ node: node.name, diff }).toEqual({ node: node.name, diff: expect.objectContaining({ clean: true }) });
      }
    },
    15 * 60_000,
  );
});

/** The pid of the stack's child running `script`, or null (between a death and its restart). */
function childPid(stackPid: number, script: string): number | null {
  const pids = readFileSync(`/proc/${stackPid}/task/${stackPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return (
    pids.find((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(script);
      } catch {
        return false;
      }
    }) ?? null
  );
}
