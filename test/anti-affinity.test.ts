import { startHarness, type Harness } from './support/harness';

/**
 * Anti-affinity groups (Gigas segregation): VMs of one group never share a node — at create (placement and a
 * named node), migration (a named target and placement), a drain, and when a VM joins a group.
 */
describe('anti-affinity groups', () => {
  let h: Harness;
  let key: string;
  let admin: string;
  let n = 0;

  beforeAll(async () => {
    h = await startHarness({ extraNodes: 1, transferStepMs: 5 });
    ({ apiKey: key } = await h.newTenant());
    admin = (await h.newTenant('admin')).apiKey;
  });
  afterAll(() => h?.close());
  afterEach(async () => {
    await h.resetFaults();
    await h.dataSource.query(`UPDATE nodes SET status = 'online'`);
  });

  const hostname = () => `aa-${Date.now().toString(36)}-${n++}`;
  const group = async (k = key, body: Record<string, unknown> = {}) => {
    const res = await h.call('POST', '/v1/anti-affinity-groups', { key: k, body: { name: hostname(), ...body } });
    expect(res.status).toBe(201);
    return res.body as { id: string; name: string; members: { vmId: string; nodeId: string }[] };
  };
  const createIn = (k: string, groupIds: string[], extra: Record<string, unknown> = {}) =>
    h.call('POST', '/v1/vms', {
      key: k,
      body: { hostname: hostname(), templateId: h.world.templateId, cpus: 1, memoryMb: 512, antiAffinityGroupIds: groupIds, ...extra },
    });
  const nodeOf = async (vmId: string) => (await h.dataSource.query(`SELECT node_id FROM vms WHERE id = $1`, [vmId]))[0].node_id as string;

  it('creates, reads, renames and deletes a group; refuses bad input with what to fix', async () => {
    const g = await group(key, { description: 'one per node' });
    expect(g).toMatchObject({ description: 'one per node', members: [] });
    expect((await h.call('GET', '/v1/anti-affinity-groups', { key })).body.items.map((x: { id: string }) => x.id)).toContain(g.id);
    const renamed = await h.call('PATCH', `/v1/anti-affinity-groups/${g.id}`, { key, body: { name: `${g.name}-x`, description: null } });
    expect([renamed.status, renamed.body.name, renamed.body.description]).toEqual([200, `${g.name}-x`, null]);
    const other = await group();
    const dup = await h.call('PATCH', `/v1/anti-affinity-groups/${other.id}`, { key, body: { name: `${g.name}-x` } });
    expect([dup.status, dup.body.error.code]).toEqual([409, 'NAME_TAKEN']);
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/v1/anti-affinity-groups', { name: 'has space' }, 400, 'VALIDATION_FAILED'],
      ['POST', '/v1/anti-affinity-groups', { name: 'x', vmIds: ['nope'] }, 400, 'VALIDATION_FAILED'],
      ['POST', '/v1/anti-affinity-groups', { name: 'x', vmIds: ['00000000-0000-4000-8000-000000000000'] }, 412, 'INVALID_PARAMETER'],
      ['POST', `/v1/anti-affinity-groups/${g.id}/members`, { vmIds: [] }, 400, 'VALIDATION_FAILED'],
      ['GET', '/v1/anti-affinity-groups/00000000-0000-4000-8000-000000000000', undefined, 404, 'NOT_FOUND'],
      ['DELETE', `/v1/anti-affinity-groups/${g.id}/members/00000000-0000-4000-8000-000000000000`, undefined, 404, 'NOT_FOUND'],
      [
        'POST',
        '/v1/vms',
        {
          hostname: 'bad-group',
          templateId: h.world.templateId,
          cpus: 1,
          memoryMb: 512,
          antiAffinityGroupIds: ['00000000-0000-4000-8000-000000000000'],
        },
        412,
        'INVALID_PARAMETER',
      ],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await h.call(method, path, { key, body });
      expect({ method, path, status: res.status, code: res.body.error?.code }).toEqual({ method, path, status, code });
    }
    // Another tenant sees none of it, and cannot place its VMs by it.
    const stranger = (await h.newTenant()).apiKey;
    expect((await h.call('GET', `/v1/anti-affinity-groups/${g.id}`, { key: stranger })).status).toBe(404);
    expect((await createIn(stranger, [g.id])).status).toBe(412);
    expect((await h.call('DELETE', `/v1/anti-affinity-groups/${g.id}`, { key })).status).toBe(204);
    expect((await h.call('GET', `/v1/anti-affinity-groups/${g.id}`, { key })).status).toBe(404);
  });

  it('places the members of a group on distinct nodes; with every node taken, 409 names the group and the VM there', async () => {
    const g = await group();
    const ids: string[] = [];
    for (let i = 0; i < h.world.nodeIds.length; i++) {
      const res = await createIn(key, [g.id]);
      expect(res.status).toBe(202);
      ids.push(res.body.vmId);
      expect((await h.waitForOperation(key, res.body.id)).status).toBe('succeeded');
    }
    const nodes = await Promise.all(ids.map(nodeOf));
    expect(new Set(nodes).size).toBe(h.world.nodeIds.length);

    const full = await createIn(key, [g.id]);
    expect([full.status, full.body.error.code, full.body.error.details.group]).toEqual([409, 'ANTI_AFFINITY', { id: g.id, name: g.name }]);
    expect(full.body.error.message).toMatch(new RegExp(`already runs aa-.*anti-affinity group ${g.name}`));
    expect(ids).toContain(full.body.error.details.vm.id);

    // A named node where a member is: 409, naming that member.
    const named = await createIn(key, [g.id], { nodeId: nodes[0] });
    expect([named.status, named.body.error.code, named.body.error.details.vm.id]).toEqual([409, 'ANTI_AFFINITY', ids[0]]);
    expect((await h.call('GET', `/v1/anti-affinity-groups/${g.id}`, { key })).body.members).toHaveLength(h.world.nodeIds.length);

    // Leaving the group frees the node for the next member; a deleted VM leaves by itself.
    await h.runOperation(key, 'DELETE', `/v1/vms/${ids[0]}`);
    const fits = await createIn(key, [g.id]);
    expect(fits.status).toBe(202);
    expect((await h.waitForOperation(key, fits.body.id)).status).toBe('succeeded');
    expect(await nodeOf(fits.body.vmId)).toBe(nodes[0]);
  });

  it('two tenants creating many members at once: never two of a group on one node, the rest refused with 409', async () => {
    const tenants = [key, (await h.newTenant()).apiKey];
    const groups = await Promise.all(tenants.map((k) => group(k)));
    const all = await Promise.all(
      tenants.flatMap((k, t) => Array.from({ length: 5 }, async () => ({ k, res: await createIn(k, [groups[t].id]) }))),
    );
    for (const [t, k] of tenants.entries()) {
      const mine = all.filter((x) => x.k === k);
      expect(mine.filter((x) => x.res.status === 202)).toHaveLength(h.world.nodeIds.length);
      for (const x of mine.filter((x) => x.res.status !== 202))
        expect([x.res.status, x.res.body.error.code]).toEqual([409, 'ANTI_AFFINITY']);
      const nodes = [];
      for (const x of mine.filter((x) => x.res.status === 202)) {
        expect((await h.waitForOperation(k, x.res.body.id)).status).toBe('succeeded');
        nodes.push(await nodeOf(x.res.body.vmId));
      }
      expect(new Set(nodes).size).toBe(nodes.length);
      expect((await h.call('GET', `/v1/anti-affinity-groups/${groups[t].id}`, { key: k })).body.members).toHaveLength(nodes.length);
    }
  });

  it('migration: a named target with a member is refused (409 naming both), placement goes around it, can_migrate says why', async () => {
    const [node1, node2, node3] = h.world.nodeIds;
    const g = await group();
    const a = await createIn(key, [g.id], { nodeId: node1 });
    const b = await createIn(key, [g.id], { nodeId: node2 });
    for (const r of [a, b]) expect((await h.waitForOperation(key, r.body.id)).status).toBe('succeeded');

    const refused = await h.call('POST', `/v1/vms/${a.body.vmId}/migrate`, { key, body: { targetNodeId: node2 } });
    expect([refused.status, refused.body.error.code]).toEqual([409, 'MIGRATION_REFUSED']);
    expect(refused.body.error.details.reasons).toEqual([
      expect.objectContaining({
        code: 'ANTI_AFFINITY',
        group: { id: g.id, name: g.name },
        vm: { id: b.body.vmId, hostname: expect.any(String) },
      }),
    ]);
    const check = await h.call('GET', `/v1/vms/${a.body.vmId}/migration-check`, { key });
    expect(check.body.targets.find((t: { nodeId: string }) => t.nodeId === node2).reasons.map((r: { code: string }) => r.code)).toEqual([
      'ANTI_AFFINITY',
    ]);
    expect(check.body.placementChoice).toBe(node3);

    const moved = await h.runOperation(key, 'POST', `/v1/vms/${a.body.vmId}/migrate`, {});
    expect(moved.status).toBe('succeeded');
    expect(await nodeOf(a.body.vmId)).toBe(node3);

    // A VM that shares a node with a member cannot join; one on a free node can.
    const c = await h.createVm(key, { nodeId: node2 });
    const join = await h.call('POST', `/v1/anti-affinity-groups/${g.id}/members`, { key, body: { vmIds: [c.id] } });
    expect([join.status, join.body.error.code, join.body.error.details.vm.id]).toEqual([409, 'ANTI_AFFINITY', b.body.vmId]);
    const d = await h.createVm(key, { nodeId: node1 });
    const joined = await h.call('POST', `/v1/anti-affinity-groups/${g.id}/members`, { key, body: { vmIds: [d.id] } });
    expect([joined.status, joined.body.members.length]).toEqual([200, 3]);
  });

  it('a VM being migrated counts on both its nodes: a member cannot be placed on its target meanwhile', async () => {
    const [node1, node2, node3] = h.world.nodeIds;
    const g = await group();
    const a = await createIn(key, [g.id], { nodeId: node1 });
    expect((await h.waitForOperation(key, a.body.id)).status).toBe('succeeded');
    await h.sim.setLatency({ method: 'transferVm', ms: 2000 });
    const migrating = await h.call('POST', `/v1/vms/${a.body.vmId}/migrate`, { key, body: { targetNodeId: node2 } });
    expect(migrating.status).toBe(202);
    const onTarget = await createIn(key, [g.id], { nodeId: node2 });
    expect([onTarget.status, onTarget.body.error.code]).toEqual([409, 'ANTI_AFFINITY']);
    const onSource = await createIn(key, [g.id], { nodeId: node1 });
    expect([onSource.status, onSource.body.error.code]).toEqual([409, 'ANTI_AFFINITY']);
    const placed = await createIn(key, [g.id]);
    expect(placed.status).toBe(202);
    expect((await h.waitForOperation(key, placed.body.id)).status).toBe('succeeded');
    expect(await nodeOf(placed.body.vmId)).toBe(node3);
    expect((await h.waitForOperation(key, migrating.body.id, 30_000)).status).toBe('succeeded');
  });

  it('a drain moves a member only to a node with no other member, and reports the one that has nowhere to go', async () => {
    const [node1, node2, node3] = h.world.nodeIds;
    const g = await group();
    const onNode1 = await createIn(key, [g.id], { nodeId: node1 });
    const onNode2 = await createIn(key, [g.id], { nodeId: node2 });
    for (const r of [onNode1, onNode2]) expect((await h.waitForOperation(key, r.body.id)).status).toBe('succeeded');
    const drain = await h.call('POST', `/v1/admin/nodes/${node1}/drain`, { key: admin, body: {} });
    expect(drain.status).toBe(202);
    const op = await h.waitForOperation(admin, drain.body.id, 60_000);
    expect(op.children.find((c) => c.vmId === onNode1.body.vmId)?.status).toBe('succeeded');
    expect(await nodeOf(onNode1.body.vmId)).toBe(node3);
    await h.dataSource.query(`UPDATE nodes SET status = 'online' WHERE id = $1`, [node1]);

    // node2 drains next: its member may go to node1 only (node3 holds the other one).
    const second = await h.call('POST', `/v1/admin/nodes/${node2}/drain`, { key: admin, body: {} });
    await h.waitForOperation(admin, second.body.id, 60_000);
    expect(await nodeOf(onNode2.body.vmId)).toBe(node1);
    await h.dataSource.query(`UPDATE nodes SET status = 'online' WHERE id = $1`, [node2]);

    // With node2 in maintenance as well, a member on node1 has nowhere to go: the drain says why.
    await h.dataSource.query(`UPDATE nodes SET status = 'maintenance' WHERE id = $1`, [node2]);
    const third = await h.call('POST', `/v1/admin/nodes/${node1}/drain`, { key: admin, body: {} });
    const stuck = await h.waitForOperation(admin, third.body.id, 60_000);
    expect(stuck.status).toBe('failed');
    const { hostname: member } = (await h.call('GET', `/v1/vms/${onNode2.body.vmId}`, { key })).body;
    const step = stuck.steps.find((s) => s.name === `migrate:${member}`);
    expect(step?.error).toContain(`anti-affinity group ${g.name}`);
    expect(await nodeOf(onNode2.body.vmId)).toBe(node1);
  });
});
