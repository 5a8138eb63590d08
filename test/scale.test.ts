import type { ChildProcess } from 'node:child_process';
import { freePort } from '../scripts/net';
import { startAppProcess, stopAppProcess } from './support/app-process';
import { startHarness, type Harness } from './support/harness';
import { readEvents } from './support/sse';

/**
 * Two API processes and two worker processes (the test's own, and one more of each from the built dist/, as the
 * stack runs them) on one database and one Temporal server, under concurrent load from two tenants: exclusivity,
 * idempotency, capacity and the event stream hold across them, since the lock, the keys and the events live in
 * PostgreSQL.
 * LOAD_VMS sets how many VMs take concurrent operations at once (CI: 20; the long run: 200).
 */
const LOAD_VMS = Number(process.env.LOAD_VMS ?? 20);

describe('two APIs and two workers under load', () => {
  let h: Harness;
  let secondUrl: string;
  const processes: ChildProcess[] = [];

  beforeAll(async () => {
    h = await startHarness();
    const port = await freePort();
    secondUrl = `http://127.0.0.1:${port}`;
    processes.push(await startAppProcess(h, 'api', { PORT: String(port) }), await startAppProcess(h, 'worker'));
  });
  afterAll(async () => {
    for (const proc of processes) await stopAppProcess(proc, 'SIGTERM');
    await h?.close();
  });
  afterEach(() => h.resetFaults());

  /** The same request, to one API or the other. */
  const via = (i: number, method: string, p: string, key: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${i % 2 ? secondUrl : h.baseUrl}${p}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json().catch(() => null)) as any }));
  const templateId = () => h.world.templateId;

  it('50 conflicting operations on one VM through both APIs: exactly one accepted, the others 409 naming it', async () => {
    const { apiKey } = await h.newTenant();
    const vm = await h.createVm(apiKey);
    await h.sim.setLatency({ method: 'stopVm', ms: 1000 });
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => via(i, 'POST', `/v1/vms/${vm.id}/${['reboot', 'stop', 'freeze'][i % 3]}`, apiKey, {})),
    );
    const accepted = replies.filter((r) => r.status === 202);
    expect(accepted).toHaveLength(1);
    const others = replies.filter((r) => r.status !== 202);
    // 409 naming the winner, or — for a freeze, which needs a stopped VM — 423 for the state it is in.
    expect(
      others.filter((r) => !(r.status === 409 && r.body.error.details.operationId === accepted[0].body.id) && r.status !== 423),
    ).toEqual([]);
    expect((await h.waitForOperation(apiKey, accepted[0].body.id)).status).toBe('succeeded');
    console.log(
      `scale: 50 conflicting requests over 2 APIs → 1 accepted, ${others.filter((r) => r.status === 409).length} × 409, ${others.filter((r) => r.status === 423).length} × 423`,
    );
  });

  it('20 requests with one Idempotency-Key through both APIs: one operation, every answer names it', async () => {
    const { apiKey } = await h.newTenant();
    const body = { hostname: `idem-${Date.now().toString(36)}`, templateId: templateId(), cpus: 1, memoryMb: 512 };
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => via(i, 'POST', '/v1/vms', apiKey, body, { 'idempotency-key': 'one-key' })),
    );
    expect(replies.map((r) => r.status).filter((s) => s !== 202)).toEqual([]);
    expect(new Set(replies.map((r) => r.body.id)).size).toBe(1);
    const [{ n }] = await h.dataSource.query(`SELECT count(*)::int AS n FROM vms WHERE hostname = $1`, [body.hostname]);
    expect(n).toBe(1);
    expect((await h.waitForOperation(apiKey, replies[0].body.id)).status).toBe('succeeded');
  });

  it('100 concurrent creates with 20 duplicate hostnames on tight nodes: no duplicate, capacity never exceeded', async () => {
    const { apiKey } = await h.newTenant();
    // Room for 30 more VMs of 1 vCPU across both nodes.
    const nodes: { id: string; cpus: number; used: number }[] = await h.dataSource.query(
      `SELECT n.id, n.cpus, (SELECT coalesce(sum(cpus), 0)::int FROM vms WHERE node_id = n.id) AS used FROM nodes n`,
    );
    await h.dataSource.query(`UPDATE nodes SET cpus = $2 WHERE id = $1`, [nodes[0].id, nodes[0].used + 15]);
    await h.dataSource.query(`UPDATE nodes SET cpus = $2 WHERE id = $1`, [nodes[1].id, nodes[1].used + 15]);
    try {
      const stamp = Date.now().toString(36);
      const hostnames = Array.from({ length: 100 }, (_, i) => `cap-${stamp}-${i < 80 ? i : i - 80}`);
      const replies = await Promise.all(
        hostnames.map((hostname, i) => via(i, 'POST', '/v1/vms', apiKey, { hostname, templateId: templateId(), cpus: 1, memoryMb: 512 })),
      );
      const codes = replies.map((r) => (r.status === 202 ? 'accepted' : r.body.error.code));
      const count = (c: string) => codes.filter((x) => x === c).length;
      expect(codes.filter((c) => !['accepted', 'HOSTNAME_TAKEN', 'INSUFFICIENT_CAPACITY'].includes(c))).toEqual([]);
      expect(count('accepted')).toBe(30);
      for (const r of replies.filter((x) => x.status === 202))
        expect((await h.waitForOperation(apiKey, r.body.id)).status).toBe('succeeded');
      const made: { hostname: string; n: number }[] = await h.dataSource.query(
        `SELECT hostname, count(*)::int AS n FROM vms WHERE hostname LIKE $1 GROUP BY hostname HAVING count(*) > 1`,
        [`cap-${stamp}-%`],
      );
      expect(made).toEqual([]);
      const over = await h.dataSource.query(
        `SELECT n.name FROM nodes n WHERE (SELECT coalesce(sum(cpus), 0) FROM vms WHERE node_id = n.id) > n.cpus`,
      );
      expect(over).toEqual([]);
      console.log(
        `scale: 100 creates (20 duplicate names) over 2 APIs on room for 30 → ${count('accepted')} accepted, ${count('HOSTNAME_TAKEN')} × HOSTNAME_TAKEN, ${count('INSUFFICIENT_CAPACITY')} × INSUFFICIENT_CAPACITY`,
      );
    } finally {
      for (const n of nodes) await h.dataSource.query(`UPDATE nodes SET cpus = $2 WHERE id = $1`, [n.id, n.cpus]);
    }
  });

  it(`${LOAD_VMS} VMs of two tenants × 5 concurrent operations each, through both APIs and both workers: one at a time per VM, all settle, audits clean; each tenant's event stream carries its own operations only`, async () => {
    const tenants = [await h.newTenant(), await h.newTenant()];
    const vms = await Promise.all(
      Array.from({ length: LOAD_VMS }, (_, i) =>
        h.createVm(tenants[i % 2].apiKey).then((vm) => ({ ...vm, key: tenants[i % 2].apiKey, tenant: i % 2 })),
      ),
    );
    // Each tenant listens on the other API than most of its requests go to.
    const streams = await Promise.all(
      tenants.map((t, i) => fetch(`${i ? h.baseUrl : secondUrl}/v1/events`, { headers: { authorization: `Bearer ${t.apiKey}` } })),
    );
    // Each winner holds its VM past the burst: 100 requests over two APIs take up to a second or two to arrive, and a
    // stop at zero latency finishes in half a second (a start that came after it was rightly accepted).
    await h.sim.setLatency({ method: 'stopVm', ms: 4000 });
    await h.sim.setLatency({ method: 'createSnapshot', ms: 4000 });
    const started = Date.now();
    const actions = ['reboot', 'stop', 'start', 'snapshots', 'reboot'];
    const replies = await Promise.all(
      vms.flatMap((vm, v) =>
        actions.map((action, a) =>
          via(v + a, 'POST', `/v1/vms/${vm.id}/${action}`, vm.key, action === 'snapshots' ? { name: `s-${a}` } : {}).then((r) => ({
            vm,
            r,
          })),
        ),
      ),
    );
    const burst = Date.now() - started;
    const accepted = replies.filter(({ r }) => r.status === 202);
    expect(replies.filter(({ r }) => r.status !== 202 && r.status !== 409 && r.status !== 423).map(({ r }) => r)).toEqual([]);
    // Every VM was contended: at least one of its requests was refused naming an operation it had accepted.
    const acceptedIds = new Set(accepted.map(({ r }) => r.body.id));
    expect(
      vms.filter(
        (vm) => !replies.some(({ vm: v, r }) => v.id === vm.id && r.status === 409 && acceptedIds.has(r.body.error.details.operationId)),
      ),
    ).toEqual([]);
    const finals = await Promise.all(accepted.map(({ vm, r }) => h.waitForOperation(vm.key, r.body.id, 120_000)));
    expect(finals.filter((op) => op.status !== 'succeeded')).toEqual([]);
    // One at a time per VM: each operation was accepted after the one before it had finished (the VM's lock goes in
    // the statement that records the finish). A burst slower than a winner's 4 s may rightly see a second winner.
    const overlaps: unknown[] = [];
    for (const vm of vms) {
      const ops = finals.filter((op) => op.vmId === vm.id).sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
      for (let i = 1; i < ops.length; i++) {
        const before = ops[i - 1];
        if (before.finishedAt === null || Date.parse(ops[i].createdAt) < Date.parse(before.finishedAt)) overlaps.push([before, ops[i]]);
      }
    }
    expect(overlaps).toEqual([]);
    if (burst < 4000) expect(accepted).toHaveLength(LOAD_VMS);
    console.log(
      `scale: ${LOAD_VMS} VMs × 5 concurrent operations over 2 APIs and 2 workers → ${accepted.length} accepted (the burst answered in ${burst} ms), all succeeded in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );

    expect(await h.dataSource.query(`SELECT id FROM vms WHERE current_operation_id IS NOT NULL`)).toEqual([]);
    for (const node of h.world.nodeIds) expect((await h.auditNode(node)).diff).toMatchObject({ clean: true });
    for (const [t, res] of streams.entries()) {
      const mine = new Set(accepted.filter(({ vm }) => vm.tenant === t).map(({ r }) => r.body.id));
      const events = await readEvents(
        res,
        (seen) => [...mine].every((id) => seen.some((e) => e.data.operationId === id && e.data.status === 'succeeded')),
        60_000,
      );
      const theirs = accepted.filter(({ vm }) => vm.tenant !== t).map(({ r }) => r.body.id);
      expect(events.filter((e) => theirs.includes(e.data.operationId))).toEqual([]);
    }
  });
});
