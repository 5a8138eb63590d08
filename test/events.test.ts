import { startHarness, type Harness } from './support/harness';
import { readEvents, type SseEvent } from './support/sse';

describe('operation events and deadlines', () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    h = await startHarness();
    ({ apiKey: key } = await h.newTenant());
  });
  afterAll(() => h.close());
  afterEach(() => h.resetFaults());

  const stream = (apiKey: string, lastEventId?: string) =>
    fetch(`${h.baseUrl}/v1/events`, {
      headers: { authorization: `Bearer ${apiKey}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
    });

  it('ends an open stream as soon as the key that opened it is revoked; the key then gets 401', async () => {
    const created = await h.call('POST', '/v1/api-keys', { key, body: { name: 'stream reader' } });
    expect(created.status).toBe(201);
    const res = await stream(created.body.key);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    expect((await h.call('DELETE', `/v1/api-keys/${created.body.id}`, { key })).status).toBe(204);
    const revokedAt = Date.now();
    let ended = false;
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const next = await Promise.race([reader.read(), new Promise<null>((r) => (timer = setTimeout(() => r(null), 5000)))]);
      clearTimeout(timer);
      if (next === null) break;
      if (next.done) {
        ended = true;
        break;
      }
    }
    await reader.cancel();
    expect(ended).toBe(true);
    expect(Date.now() - revokedAt).toBeLessThan(500);
    expect((await stream(created.body.key)).status).toBe(401);
  });

  it("streams every state change of the tenant's operations in order, and resumes after Last-Event-ID", async () => {
    const mine = await stream(key);
    expect(mine.status).toBe(200);
    expect(mine.headers.get('content-type')).toContain('text/event-stream');
    const other = await h.newTenant();
    const theirs = await stream(other.apiKey);

    const created = await h.call('POST', '/v1/vms', {
      key,
      body: { hostname: 'sse-1', templateId: h.world.templateId, cpus: 1, memoryMb: 512 },
    });
    const ofOp = (events: SseEvent[]) => events.filter((e) => e.data.operationId === created.body.id);
    const events = await readEvents(mine, (evs) => ofOp(evs).some((e) => e.data.status === 'succeeded'));

    const own = ofOp(events);
    expect(own.map((e) => e.data.status)).toEqual(['pending', 'running', 'succeeded']);
    expect(own.every((e) => e.event === 'operation' && e.data.type === 'vm.create' && e.data.vmId === created.body.vmId)).toBe(true);
    const ids = own.map((e) => Number(e.id));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);

    // Another tenant hears nothing of it.
    const foreign = await readEvents(theirs, () => false, 1500, false);
    expect(foreign.filter((e) => e.data.operationId === created.body.id)).toEqual([]);

    // A client that lost the connection after the first event gets the rest, once each.
    const resumed = await readEvents(await stream(key, own[0].id), (evs) => ofOp(evs).some((e) => e.data.status === 'succeeded'));
    expect(ofOp(resumed).map((e) => e.data.status)).toEqual(['running', 'succeeded']);

    expect((await stream(key, 'not-an-id')).status).toBe(400);
    expect((await fetch(`${h.baseUrl}/v1/events`)).status).toBe(401);
  });

  it('reports an operation past its deadline as overdue, in the operation and in /metrics', async () => {
    const created = await h.call('POST', '/v1/vms', {
      key,
      body: { hostname: 'slow-1', templateId: h.world.templateId, cpus: 1, memoryMb: 512 },
    });
    await h.waitForOperation(key, created.body.id);
    expect(created.body.deadline).toEqual(expect.any(String));
    expect(new Date(created.body.deadline).getTime() - new Date(created.body.createdAt).getTime()).toBe(30 * 60 * 1000);

    await h.sim.setLatency({ method: 'stopVm', ms: 2000 });
    const stop = await h.call('POST', `/v1/vms/${created.body.vmId}/stop`, { key });
    expect(stop.body.overdue).toBe(false);
    await h.dataSource.query(`UPDATE operations SET deadline_at = now() - interval '1 second' WHERE id = $1`, [stop.body.id]);

    const late = (await h.call('GET', `/v1/operations/${stop.body.id}`, { key })).body;
    expect(late).toMatchObject({ overdue: true, status: expect.stringMatching(/pending|running/) });
    const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^vmops_operations_overdue\{type="vm\.stop"\} 1$/m);
    expect(metrics).toMatch(/^vmops_operations_unfinished\{type="vm\.stop"\} 1$/m);

    const done = await h.waitForOperation(key, stop.body.id);
    expect(done).toMatchObject({ status: 'succeeded', overdue: false });
    expect(await (await fetch(`${h.baseUrl}/metrics`)).text()).not.toMatch(/^vmops_operations_overdue\{type="vm\.stop"\} 1$/m);
  });
});
