import { startHarness, type Harness } from './support/harness';

/**
 * Fairness between tenants: every operation's workflow starts with its tenant as its fairness key, and the Temporal
 * server (as the stack and this run start it) dispatches a queue's backlog in turn by key. A tenant's burst of
 * hundreds of operations therefore does not queue another tenant's operation behind all of them, as first-in,
 * first-out dispatch would (`TEMPORAL_DEV_DYNAMIC_CONFIG=matching.enableFairness=false npx jest test/fairness`
 * shows this test failing so).
 */
describe('fairness between tenants', () => {
  let h: Harness;

  beforeAll(async () => {
    // Few slots in the worker and the agents, so that the burst's backlog waits in Temporal's queues, where dispatch is
    // fair, and not inside these processes, where it is first in, first out. With the defaults (100 inventory
    // activities, 200 driver calls per node) a slow machine lets hundreds of the burst's tasks in at once, and a later
    // task waits behind them whatever Temporal's order was (seen in CI: 298 of 300 done).
    h = await startHarness({ workerActivitySlots: 10, agentSlots: { maxCalls: 10, maxLongCalls: 10 } });
  });
  afterAll(() => h?.close());

  /** `count` running VMs of the tenant, written as rows in the inventory and on the simulated nodes alike. */
  async function seedRunningVms(tenantId: string, count: number): Promise<string[]> {
    const rows: { id: string }[] = await h.dataSource.query(
      `INSERT INTO vms (id, tenant_id, hostname, cpus, memory_mb, node_id, status)
       SELECT gen_random_uuid(), $1, 'burst-' || i, 1, 256, ($2::uuid[])[1 + i % array_length($2::uuid[], 1)], 'running'
         FROM generate_series(1, $3::int) i RETURNING id`,
      [tenantId, h.world.nodeIds, count],
    );
    const ids = rows.map((r) => r.id);
    await h.dataSource.query(
      `INSERT INTO ${h.config.simulator.schema}.vms (id, node_id, hostname, cpus, memory_mb, guest_agent, power_state, started_at)
       SELECT id::text, node_id::text, hostname, 1, 256, true, 'running', now() FROM vms WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return ids;
  }

  const finishedOf = async (tenantId: string) =>
    Number(
      (await h.dataSource.query(`SELECT count(*) AS n FROM operations WHERE tenant_id = $1 AND finished_at IS NOT NULL`, [tenantId]))[0].n,
    );

  it("one tenant's operation runs beside another tenant's burst, not after it", async () => {
    const [busy, other] = [await h.newTenant(), await h.newTenant()];
    const probe = await h.createVm(other.apiKey, { start: false });
    const burst = 300;
    const vms = await seedRunningVms(busy.tenantId, burst);

    let next = 0;
    await Promise.all(
      Array.from({ length: 25 }, async () => {
        while (next < vms.length) {
          const res = await h.call('POST', `/v1/vms/${vms[next++]}/stop`, { key: busy.apiKey, body: { force: true } });
          expect(res.status).toBe(202);
        }
      }),
    );
    const before = await finishedOf(busy.tenantId);
    const started = await h.runOperation(other.apiKey, 'POST', `/v1/vms/${probe.id}/start`, {});
    const after = await finishedOf(busy.tenantId);
    console.log(`fairness: the burst had ${before} of ${burst} done when the other tenant's start was sent, ${after} when it ended`);

    expect(started.status).toBe('succeeded');
    // First in, first out, the start would end after every stop sent before it (300 of 300).
    expect(after).toBeLessThan(before + (burst - before) / 2);

    // The burst itself completes.
    const deadline = Date.now() + 120_000;
    while ((await finishedOf(busy.tenantId)) < burst && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    expect(await finishedOf(busy.tenantId)).toBe(burst);
    const failed = await h.dataSource.query(`SELECT count(*) AS n FROM operations WHERE tenant_id = $1 AND status <> 'succeeded'`, [
      busy.tenantId,
    ]);
    expect(Number(failed[0].n)).toBe(0);
  }, 180_000);
});
