import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DriverCapacityError, DriverUnavailableError } from '../libs/driver/src';
import { SimulatedHypervisor, SimulatorControl } from '../libs/hypervisor/src';
import { describeDriverContract } from './contract/driver-contract';

const capacity = { cpus: 16, memoryMb: 32768, storageGb: 2000 };

describeDriverContract('simulated hypervisor', async () => {
  const databaseUrl = process.env.VMOPS_TEST_DATABASE_URL!;
  const schema = `sim_contract_${randomUUID().slice(0, 8)}`;
  const driver = new SimulatedHypervisor({ databaseUrl, schema, guestShutdownMs: 200, transferStepMs: 10 });
  const control = new SimulatorControl({ databaseUrl, schema });
  const [nodeId, otherNodeId] = ['contract-node-a', 'contract-node-b'];
  await control.registerNode(nodeId, capacity);
  await control.registerNode(otherNodeId, capacity);
  return {
    driver,
    nodeId,
    otherNodeId,
    capacity,
    templateId: 'debian-12',
    writeToDisk: (diskId, content) => control.writeToDisk(diskId, content),
    async close() {
      await driver.close();
      await control.close();
    },
  };
});

describe('simulated hypervisor: injected faults and latency', () => {
  const databaseUrl = process.env.VMOPS_TEST_DATABASE_URL!;
  const schema = `sim_faults_${randomUUID().slice(0, 8)}`;
  const driver = new SimulatedHypervisor({ databaseUrl, schema });
  const control = new SimulatorControl({ databaseUrl, schema });
  const node = 'fault-node';
  const create = (n: number) => driver.createBlankDisk(node, { diskId: `d-${randomUUID().slice(0, 8)}-${n}`, sizeGb: 1 });

  beforeAll(() => control.registerNode(node, capacity));
  afterEach(() => control.resetControls());
  afterAll(async () => {
    await driver.close();
    await control.close();
  });

  it('fails the calls a fault names (skip 2, fail 1: the 3rd), with its typed error, then lets calls through', async () => {
    await control.injectFault({
      method: 'createBlankDisk',
      skipCalls: 2,
      failCalls: 1,
      error: 'invalid_state',
      message: 'disk pool offline',
    });
    const outcomes = [];
    for (let i = 0; i < 5; i++)
      outcomes.push(
        await create(i).then(
          () => 'ok',
          (e: Error) => `${e.name}: ${e.message}`,
        ),
      );
    expect(outcomes).toEqual(['ok', 'ok', 'DriverInvalidStateError: disk pool offline', 'ok', 'ok']);
    expect(await control.listFaults()).toEqual([expect.objectContaining({ seen: 5, failed: 1 })]);
    expect(await control.callCount('createBlankDisk')).toBe(5);
  });

  it('a call the host refuses (no fault) is logged and counted, and what its work wrote before failing is undone', async () => {
    const mark = await control.lastCallSeq();
    const [diskId, vmId] = [`d-${randomUUID().slice(0, 8)}`, `vm-${randomUUID().slice(0, 8)}`];
    await driver.createBlankDisk(node, { diskId, sizeGb: 1 });
    // A disk of another size under the same id: the work reads the disk, then refuses.
    await expect(driver.createBlankDisk(node, { diskId, sizeGb: 2 })).rejects.toThrow(/another definition/);
    // The VM is written, its first disk attached, then its second is missing: none of it stays.
    const definition = { vmId, hostname: 'refused', cpus: 1, memoryMb: 512, guestAgent: true, nics: [] };
    await expect(
      driver.defineVm(node, {
        ...definition,
        disks: [
          { id: diskId, position: 0 },
          { id: 'no-such-disk', position: 1 },
        ],
      }),
    ).rejects.toThrow(/no-such-disk not found/);
    await expect(driver.getVm(node, vmId)).resolves.toBeNull();
    await expect(driver.createBlankDisk('no-such-node', { diskId: `${diskId}-x`, sizeGb: 1 })).rejects.toThrow(/not served/);
    expect((await control.callLog(mark)).map((c) => `${c.method} ${c.nodeId}`)).toEqual([
      `createBlankDisk ${node}`,
      `createBlankDisk ${node}`,
      `defineVm ${node}`,
      `getVm ${node}`,
      'createBlankDisk no-such-node',
    ]);
    expect(await control.callCount('createBlankDisk', node)).toBe(2);
    expect(await driver.getDisk(node, diskId)).toEqual(expect.objectContaining({ sizeGb: 1, vmId: null }));
    // The connections the failed calls used are fit for the next ones, and the VM can be defined once its disks exist.
    for (let i = 0; i < 8; i++) await create(i);
    await driver.defineVm(node, { ...definition, disks: [{ id: diskId, position: 0 }] });
    expect(await driver.getVm(node, vmId)).toEqual(expect.objectContaining({ disks: [{ id: diskId, position: 0 }] }));
  });

  it('takes ids as values: quotes, semicolons and placeholders in them reach the world as written', async () => {
    const tag = randomUUID().slice(0, 8);
    const [diskId, vmId] = [`d-${tag}'; DROP TABLE disks; --$1`, `vm-${tag}'$2\\`];
    await driver.createBlankDisk(node, { diskId, sizeGb: 1 });
    await driver.defineVm(node, { vmId, hostname: "o'brien", cpus: 1, memoryMb: 512, guestAgent: true, disks: [], nics: [] });
    await driver.attachDisk(node, { diskId, vmId, position: 0 });
    await driver.startVm(node, vmId);
    expect(await driver.getVm(node, vmId)).toEqual(
      expect.objectContaining({ vmId, hostname: "o'brien", powerState: 'running', disks: [{ id: diskId, position: 0 }] }),
    );
    await expect(driver.detachDisk(node, { diskId, vmId })).rejects.toThrow(/stays attached while it runs/);
    await driver.forceStopVm(node, vmId);
    await driver.detachDisk(node, { diskId, vmId });
    await driver.deleteDisk(node, diskId);
    await expect(driver.getDisk(node, diskId)).resolves.toBeNull();
    await expect(driver.startVm(node, `${vmId}-none`)).rejects.toThrow(`VM ${vmId}-none not found on node ${node}`);
  });

  it('never gives out more memory than a node has, to VMs started at once', async () => {
    // A node of its own: 4 GB, and six VMs of 1.5 GB each, started at once. Two fit.
    const small = `race-node-${randomUUID().slice(0, 8)}`;
    await control.registerNode(small, { cpus: 16, memoryMb: 4096, storageGb: 100 });
    const vmIds: string[] = [];
    for (let i = 0; i < 6; i++) {
      const [diskId, vmId] = [`d-${randomUUID().slice(0, 8)}`, `vm-${randomUUID().slice(0, 8)}`];
      await driver.createBlankDisk(small, { diskId, sizeGb: 1 });
      const disks = [{ id: diskId, position: 0 }];
      await driver.defineVm(small, { vmId, hostname: vmId, cpus: 1, memoryMb: 1536, guestAgent: true, disks, nics: [] });
      vmIds.push(vmId);
    }
    // Reads at once first, so that the pool's connections are all open: the starts then run at once.
    await Promise.all(vmIds.map((vmId) => driver.getVm(small, vmId)));
    const outcomes = await Promise.allSettled(vmIds.map((vmId) => driver.startVm(small, vmId)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(2);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(DriverCapacityError);
    expect((await driver.audit(small)).used.memoryMb).toBe(3072);
  });

  it('with no shutdown time, a guest with an agent is off as the button is pressed; one without an agent ignores it', async () => {
    const instant = new SimulatedHypervisor({ databaseUrl, schema, guestShutdownMs: 0 });
    try {
      const boot = async (guestAgent: boolean) => {
        const [diskId, vmId] = [`d-${randomUUID().slice(0, 8)}`, `vm-${randomUUID().slice(0, 8)}`];
        await instant.createBlankDisk(node, { diskId, sizeGb: 1 });
        await instant.defineVm(node, {
          vmId,
          hostname: vmId,
          cpus: 1,
          memoryMb: 512,
          guestAgent,
          disks: [{ id: diskId, position: 0 }],
          nics: [],
        });
        await instant.startVm(node, vmId);
        return vmId;
      };
      const [withAgent, withoutAgent] = [await boot(true), await boot(false)];
      const mark = await control.lastCallSeq();
      await expect(instant.stopVm(node, withAgent, { timeoutSeconds: 5 })).resolves.toBe('stopped');
      expect(await control.callLog(mark)).toHaveLength(1);
      expect(await instant.getVm(node, withAgent)).toEqual(expect.objectContaining({ powerState: 'stopped', startedAt: null }));
      await instant.startVm(node, withAgent);
      await instant.shutdownVm(node, withAgent);
      expect(await instant.getVm(node, withAgent)).toEqual(expect.objectContaining({ powerState: 'stopped' }));
      await expect(instant.stopVm(node, withoutAgent, { timeoutSeconds: 0.3 })).resolves.toBe('timed_out');
      expect(await instant.getVm(node, withoutAgent)).toEqual(expect.objectContaining({ powerState: 'running' }));
    } finally {
      await instant.close();
    }
  });

  it('a transient fault raises the retryable error; without failCalls it never stops; per node and for * methods', async () => {
    await control.injectFault({ method: '*', nodeId: node });
    await expect(create(0)).rejects.toBeInstanceOf(DriverUnavailableError);
    await expect(driver.getDisk(node, 'x')).rejects.toBeInstanceOf(DriverUnavailableError);
    await control.clearFaults();
    await control.injectFault({ method: '*', nodeId: 'another-node' });
    await expect(create(1)).resolves.toBeUndefined();
  });

  it('fails with the probability given: never at 0, always at 1', async () => {
    const never = await control.injectFault({ method: 'createBlankDisk', probability: 0 });
    for (let i = 0; i < 5; i++) await create(i);
    await control.clearFaults(never.id);
    await control.injectFault({ method: 'createBlankDisk', probability: 1, failCalls: 3 });
    const failed = await Promise.allSettled([0, 1, 2, 3].map((i) => create(i)));
    expect(failed.filter((r) => r.status === 'rejected')).toHaveLength(3);
  });

  it("a fault that lands does the call's work first, then fails: the world changed although the caller saw an error", async () => {
    await control.injectFault({ method: 'createBlankDisk', failCalls: 1, lands: true, message: 'reply lost' });
    const diskId = `d-${randomUUID().slice(0, 8)}`;
    await expect(driver.createBlankDisk(node, { diskId, sizeGb: 1 })).rejects.toMatchObject({
      name: 'DriverUnavailableError',
      message: 'reply lost',
    });
    expect(await driver.getDisk(node, diskId)).toMatchObject({ diskId, sizeGb: 1 });
    // The retry meets the disk it made: the call is idempotent.
    await expect(driver.createBlankDisk(node, { diskId, sizeGb: 1 })).resolves.toBeUndefined();
  });

  it('outlives the database dropping its connections: the lost ones are replaced, the next call works', async () => {
    await create(0);
    await control.listFaults();
    const terminator = new Client({ connectionString: databaseUrl });
    await terminator.connect();
    try {
      const { rows } = await terminator.query(
        `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      );
      expect(rows.length).toBeGreaterThan(0);
    } finally {
      await terminator.end();
    }
    await new Promise((r) => setTimeout(r, 200));
    await expect(create(1)).resolves.toBeUndefined();
    expect(await control.listFaults()).toEqual([]);
  });

  it('slows the method a latency names, more specific latency first', async () => {
    await control.setLatency({ method: '*', ms: 0 });
    await control.setLatency({ method: 'getDisk', nodeId: node, ms: 300 });
    const started = Date.now();
    await driver.getDisk(node, 'none');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    const quick = Date.now();
    await driver.getVm(node, 'none');
    expect(Date.now() - quick).toBeLessThan(300);
  });

  it('keeps ensureFault from stacking the same configured fault at each agent start', async () => {
    const spec = { method: 'startVm' as const, failCalls: 1 };
    const a = await control.ensureFault(spec);
    const b = await control.ensureFault(spec);
    expect(b.id).toBe(a.id);
    expect(await control.listFaults()).toHaveLength(1);
  });
});
