import { startHarness, type Harness } from './support/harness';
import { recordHistory } from './support/histories';

describe('admin role, API keys, and the reset of a stuck VM', () => {
  let h: Harness;
  let member: string;
  let admin: string;

  beforeAll(async () => {
    h = await startHarness();
    ({ apiKey: member } = await h.newTenant());
    ({ apiKey: admin } = await h.newTenant('admin'));
  });
  afterAll(() => h.close());
  afterEach(() => h.resetFaults());

  it('lets only an admin key manage nodes and templates', async () => {
    const node = { name: `node-${Date.now().toString(36)}`, datacenter: 'dc2', cpus: 8, memoryMb: 16384, storageGb: 200 };
    const denied = await h.call('POST', '/v1/nodes', { key: member, body: node });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('ADMIN_REQUIRED');
    expect((await h.call('POST', '/v1/templates', { key: member, body: { name: 'x', osFamily: 'linux', diskSizeGb: 5 } })).status).toBe(
      403,
    );

    const created = await h.call('POST', '/v1/nodes', { key: admin, body: node });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: node.name, status: 'online', capacity: { cpus: 8 }, used: { vms: 0 } });
    expect((await h.call('POST', '/v1/nodes', { key: admin, body: node })).body.error.code).toBe('NAME_TAKEN');
    expect((await h.call('POST', '/v1/nodes', { key: admin, body: { ...node, name: 'Bad Name' } })).status).toBe(400);

    const drained = await h.call('PATCH', `/v1/nodes/${created.body.id}`, { key: admin, body: { status: 'maintenance' } });
    expect(drained.body.status).toBe('maintenance');
    const placed = await h.call('POST', '/v1/vms', {
      key: member,
      body: { hostname: 'on-drained', templateId: h.world.templateId, cpus: 1, memoryMb: 512, nodeId: created.body.id },
    });
    expect(placed.status).toBe(423);
    expect(placed.body.error.code).toBe('NODE_NOT_OPERATIONAL');

    // Members see where VMs can go, not the capacity of the fleet.
    const seen = (await h.call('GET', '/v1/nodes', { key: member })).body.items.find((n: any) => n.id === created.body.id);
    expect(seen).toEqual({ id: created.body.id, name: node.name, datacenter: 'dc2', status: 'maintenance' });

    const template = await h.call('POST', '/v1/templates', {
      key: admin,
      body: { name: `tpl-${Date.now().toString(36)}`, osFamily: 'windows', diskSizeGb: 40 },
    });
    expect(template.status).toBe(201);
    expect((await h.call('GET', '/v1/templates', { key: member })).body.items).toEqual(expect.arrayContaining([template.body]));
  });

  it('shows a new API key once, stores only its hash, and stops accepting it when revoked', async () => {
    const created = await h.call('POST', '/v1/api-keys', { key: member, body: { name: 'ci' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'ci', role: 'member', key: expect.stringMatching(/^vmo_/) });
    expect(created.body.prefix).toBe(created.body.key.slice(0, 10));
    expect((await h.call('GET', '/v1/vms', { key: created.body.key })).status).toBe(200);

    const listed = await h.call('GET', '/v1/api-keys', { key: member });
    const row = listed.body.items.find((k: any) => k.id === created.body.id);
    expect(row).toEqual({
      id: created.body.id,
      name: 'ci',
      role: 'member',
      prefix: created.body.prefix,
      createdAt: expect.any(String),
      revokedAt: null,
    });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key);
    const [stored] = await h.dataSource.query(`SELECT key_hash FROM api_keys WHERE id = $1`, [created.body.id]);
    expect(stored.key_hash).not.toContain(created.body.key);

    expect((await h.call('POST', '/v1/api-keys', { key: member, body: { name: 'root', role: 'admin' } })).status).toBe(403);
    const other = await h.newTenant();
    expect((await h.call('DELETE', `/v1/api-keys/${created.body.id}`, { key: other.apiKey })).status).toBe(404);
    expect((await h.call('DELETE', `/v1/api-keys/${created.body.id}`, { key: member })).status).toBe(204);
    expect((await h.call('GET', '/v1/vms', { key: created.body.key })).status).toBe(401);
  });

  it('follows a key changed in the database by another process (revoked, demoted, deleted) within moments', async () => {
    // The API keeps who a key is between requests; what another API process or an operator does to the key in the
    // database must still count as soon as it commits.
    const tenant = await h.newTenant('admin');
    const made = async (role: 'member' | 'admin') =>
      (await h.call('POST', '/v1/api-keys', { key: tenant.apiKey, body: { name: `k-${role}`, role } })).body as { id: string; key: string };
    /** How long after the change `request` answered `status` (polled), or null after 2 s. */
    const answeredWithin = async (request: () => Promise<{ status: number }>, status: number) => {
      const t0 = Date.now();
      while (Date.now() - t0 < 2000) {
        if ((await request()).status === status) return Date.now() - t0;
        await new Promise((r) => setTimeout(r, 10));
      }
      return null;
    };
    const listVms = (key: string) => () => h.call('GET', '/v1/vms', { key });
    const listNodes = (key: string) => () => h.call('GET', '/v1/nodes', { key });

    const revoked = await made('member');
    for (let i = 0; i < 3; i++) expect((await listVms(revoked.key)()).status).toBe(200);
    await h.dataSource.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1`, [revoked.id]);
    expect(await answeredWithin(listVms(revoked.key), 401)).toBeLessThan(500);

    const demoted = await made('admin');
    const probe = { name: `probe-${Date.now().toString(36)}`, datacenter: 'dc9', cpus: 1, memoryMb: 1024, storageGb: 10 };
    expect((await h.call('POST', '/v1/nodes', { key: demoted.key, body: probe })).status).toBe(201);
    await h.dataSource.query(`UPDATE api_keys SET role = 'member' WHERE id = $1`, [demoted.id]);
    const create = () => h.call('POST', '/v1/nodes', { key: demoted.key, body: { ...probe, name: `${probe.name}-2` } });
    expect(await answeredWithin(create, 403)).toBeLessThan(500);
    expect((await listNodes(demoted.key)()).status).toBe(200);

    const deleted = await made('member');
    expect((await listVms(deleted.key)()).status).toBe(200);
    await h.dataSource.query(`DELETE FROM api_keys WHERE id = $1`, [deleted.id]);
    expect(await answeredWithin(listVms(deleted.key), 401)).toBeLessThan(500);

    // A made-up key is refused every time, however often it is tried.
    for (let i = 0; i < 3; i++) expect((await listVms('vmo_made-up-key-of-thirty-two-chars')()).status).toBe(401);
  });

  it('resets a stuck VM after a human fixed its node, recorded as an operation', async () => {
    await h.sim.injectFault({ method: 'startVm', error: 'invalid_state', message: 'the node refuses to start guests' });
    // An undo that cannot succeed however often it is tried: the node no longer has the disk's storage.
    await h.sim.injectFault({ method: 'deleteDisk', error: 'not_found', message: 'the storage pool of the disk is gone' });
    const created = await h.call('POST', '/v1/vms', {
      key: member,
      body: { hostname: 'stuck-1', templateId: h.world.templateId, cpus: 1, memoryMb: 512 },
    });
    const stuck = await h.waitForOperation(member, created.body.id);
    expect(stuck.status).toBe('stuck');
    await h.sim.resetControls();

    // Nothing else may touch it meanwhile.
    const vmId = created.body.vmId;
    const blocked = await h.call('POST', `/v1/vms/${vmId}/start`, { key: member });
    expect(blocked.status).toBe(423);
    expect(blocked.body.error).toMatchObject({ code: 'VM_STUCK', details: { operationId: created.body.id } });
    expect((await h.call('POST', `/v1/admin/vms/${vmId}/reset`, { key: member })).status).toBe(403);

    // The human removes the disk the failed undo left behind, then resets.
    const [{ node_id: nodeId, id: diskId }] = await h.dataSource.query(`SELECT node_id, id FROM disks WHERE vm_id = $1`, [vmId]);
    await h.hypervisor.deleteDisk(nodeId, diskId);
    const reset = await h.call('POST', `/v1/admin/vms/${vmId}/reset`, { key: admin });
    expect(reset.status).toBe(202);
    expect(reset.body.type).toBe('vm.reset');
    expect((await h.waitForOperation(member, reset.body.id)).status).toBe('succeeded');

    // The node has no such VM: its record goes; the tenant sees both operations.
    expect((await h.call('GET', `/v1/vms/${vmId}`, { key: member })).status).toBe(404);
    const ops = await h.call('GET', `/v1/operations?vmId=${vmId}`, { key: member });
    expect(ops.body.items.map((o: any) => [o.type, o.status])).toEqual([
      ['vm.reset', 'succeeded'],
      ['vm.create', 'stuck'],
    ]);
    expect(
      (
        await h.call('POST', '/v1/vms', {
          key: member,
          body: { hostname: 'stuck-1', templateId: h.world.templateId, cpus: 1, memoryMb: 512 },
        })
      ).status,
    ).toBe(202);

    await recordHistory(h.temporal, `vm-reset-stuck-1-${reset.body.id.slice(0, 8)}`, 'reset-vm.succeeded');
  });

  it('refuses to reset a VM that is not stuck', async () => {
    const created = await h.call('POST', '/v1/vms', {
      key: member,
      body: { hostname: 'fine-1', templateId: h.world.templateId, cpus: 1, memoryMb: 512 },
    });
    await h.waitForOperation(member, created.body.id);
    const res = await h.call('POST', `/v1/admin/vms/${created.body.vmId}/reset`, { key: admin });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('VM_NOT_STUCK');
    expect((await h.call('POST', `/v1/admin/vms/00000000-0000-4000-8000-000000000000/reset`, { key: admin })).status).toBe(404);
  });
});
