import { startHarness, type Harness } from './support/harness';

/**
 * A node's long driver calls (guest power-offs, copies) have slots of their own: a node busy stopping many VMs
 * still starts, reads and attaches at once.
 */
describe("a node's long calls do not starve its short ones", () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    h = await startHarness({ agentSlots: { maxCalls: 2, maxLongCalls: 8 } });
    ({ apiKey: key } = await h.newTenant());
  });
  afterAll(() => h.close());
  afterEach(() => h.resetFaults());

  it('four stops waiting on their guests (two short slots) leave a start on the same node free to run', async () => {
    const nodeId = h.world.nodeIds[0];
    const running = await Promise.all(Array.from({ length: 4 }, () => h.createVm(key, { nodeId })));
    const stopped = await h.createVm(key, { nodeId, start: false });
    await h.sim.setLatency({ method: 'stopVm', ms: 6000 });

    const stopsAt = Date.now();
    const stops = await Promise.all(running.map((vm) => h.call('POST', `/v1/vms/${vm.id}/stop`, { key, body: {} })));
    for (const res of stops) expect(res.status).toBe(202);
    await new Promise((r) => setTimeout(r, 500));

    const start = await h.runOperation(key, 'POST', `/v1/vms/${stopped.id}/start`, {});
    expect(start.status).toBe('succeeded');
    const startedWithin = Date.now() - stopsAt;
    // All four stops were still waiting on their guests while the start ran.
    for (const res of stops) expect((await h.call('GET', `/v1/operations/${res.body.id}`, { key })).body.status).toBe('running');
    expect(startedWithin).toBeLessThan(5000);

    // And they waited side by side (eight long slots), not two at a time.
    const ended = await Promise.all(stops.map((res) => h.waitForOperation(key, res.body.id, 30_000)));
    for (const op of ended) expect(op.status).toBe('succeeded');
    expect(Date.now() - stopsAt).toBeLessThan(11_500);
  });

  it('a forced stop does not queue behind graceful ones that hold every long slot', async () => {
    const nodeId = h.world.nodeIds[1];
    const vms = await Promise.all(Array.from({ length: 9 }, () => h.createVm(key, { nodeId })));
    const [forced, ...graceful] = vms;
    await h.sim.setLatency({ method: 'stopVm', ms: 8000 });

    const stopsAt = Date.now();
    const stops = await Promise.all(graceful.map((vm) => h.call('POST', `/v1/vms/${vm.id}/stop`, { key, body: {} })));
    for (const res of stops) expect(res.status).toBe(202);
    // Eight guests powering off hold the node's eight long slots.
    while ((await h.sim.callCount('stopVm', nodeId)) < 8) await new Promise((r) => setTimeout(r, 50));

    const op = await h.runOperation(key, 'POST', `/v1/vms/${forced.id}/stop`, { force: true });
    expect(op.status).toBe('succeeded');
    expect(Date.now() - stopsAt).toBeLessThan(6000);
    for (const res of stops) expect((await h.call('GET', `/v1/operations/${res.body.id}`, { key })).body.status).toBe('running');
    for (const res of stops) expect((await h.waitForOperation(key, res.body.id, 30_000)).status).toBe('succeeded');
  });
});
