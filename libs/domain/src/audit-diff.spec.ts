import type { NodeAudit } from '../../driver/src/driver';
import { diffNodeAudit, type NodeInventory } from './audit-diff';

const vm = (vmId: string, powerState: 'running' | 'stopped' | 'stopping' = 'running') => ({
  vmId,
  nodeId: 'n1',
  hostname: vmId,
  cpus: 1,
  memoryMb: 512,
  guestAgent: true,
  powerState,
  frozen: false,
  bootIso: null,
  startedAt: null,
  disks: [],
  nics: [],
});
const disk = (diskId: string, vmId: string | null, position: number | null = vmId ? 0 : null, sizeGb = 10) => ({
  diskId,
  nodeId: 'n1',
  sizeGb,
  content: 'blank',
  vmId,
  position,
});

function audit(partial: Partial<NodeAudit>): NodeAudit {
  return {
    nodeId: 'n1',
    capacity: { cpus: 8, memoryMb: 8192, storageGb: 100 },
    used: { memoryMb: 0, storageGb: 0 },
    vms: [],
    disks: [],
    snapshots: [],
    nics: [],
    migrations: [],
    ...partial,
  };
}

const inventory = (partial: Partial<NodeInventory>): NodeInventory => ({
  vms: [],
  disks: [],
  nics: [],
  snapshots: [],
  migrations: [],
  ...partial,
});
const invVm = (id: string, status: 'running' | 'stopped' | 'creating' | 'error' = 'running', busy = false) => ({
  id,
  status,
  cpus: 1,
  memoryMb: 512,
  busy,
});

describe('diffNodeAudit', () => {
  it('reports a migration no operation holds any more: a reservation or a kept copy left behind', () => {
    const migration = (migrationId: string) => ({
      migrationId,
      vmId: 'a',
      sourceNodeId: 'n1',
      targetNodeId: 'n2',
      state: 'switched' as const,
      progress: 100,
      bytesTotal: 0,
    });
    const diff = diffNodeAudit(audit({ migrations: [migration('held'), migration('left')] }), inventory({ migrations: [{ id: 'held' }] }));
    expect(diff.orphans).toEqual([{ kind: 'migration', id: 'left' }]);
    expect(diff.clean).toBe(false);
  });

  it('is clean when the node and the inventory agree (a guest shutting down still counts as running)', () => {
    const diff = diffNodeAudit(
      audit({ vms: [vm('a'), vm('b', 'stopping')], disks: [disk('d1', 'a')] }),
      inventory({ vms: [invVm('a'), invVm('b')], disks: [{ id: 'd1', vmId: 'a', position: 0, sizeGb: 10 }] }),
    );
    expect(diff).toEqual({ clean: true, orphans: [], missing: [], mismatches: [], skipped: [] });
  });

  it('finds orphans on the node, objects missing from it, and fields that disagree', () => {
    const diff = diffNodeAudit(
      audit({ vms: [vm('a', 'stopped'), vm('ghost')], disks: [disk('d1', 'a', 1, 20), disk('leak', null)] }),
      inventory({ vms: [invVm('a'), invVm('gone')], disks: [{ id: 'd1', vmId: 'a', position: 0, sizeGb: 10 }] }),
    );
    expect(diff.clean).toBe(false);
    expect(diff.orphans).toEqual([
      { kind: 'vm', id: 'ghost' },
      { kind: 'disk', id: 'leak' },
    ]);
    expect(diff.missing).toEqual([{ kind: 'vm', id: 'gone' }]);
    expect(diff.mismatches).toEqual([
      { kind: 'vm', id: 'a', field: 'status', inventory: 'running', node: 'stopped' },
      { kind: 'disk', id: 'd1', field: 'position', inventory: 0, node: 1 },
      { kind: 'disk', id: 'd1', field: 'sizeGb', inventory: 10, node: 20 },
    ]);
  });

  it('leaves out VMs an operation is changing, and their disks, on both sides', () => {
    const diff = diffNodeAudit(
      audit({ disks: [disk('half-made', 'new')] }),
      inventory({ vms: [invVm('new', 'creating', true)], disks: [{ id: 'sys', vmId: 'new', position: 0, sizeGb: 10 }] }),
    );
    expect(diff).toMatchObject({ clean: true, skipped: ['new'] });
  });

  it('counts a detached disk or interface of a VM as detached, whoever owns it', () => {
    const nic = { nicId: 'eth1', nodeId: 'n1', mac: 'm', network: 'public', vmId: null, position: null };
    const diff = diffNodeAudit(
      audit({ vms: [vm('a')], disks: [disk('spare', null)], nics: [nic] }),
      inventory({
        vms: [invVm('a')],
        disks: [{ id: 'spare', vmId: 'a', position: null, sizeGb: 10 }],
        nics: [{ id: 'eth1', vmId: 'a', position: null }],
      }),
    );
    expect(diff.clean).toBe(true);
    const attached = diffNodeAudit(
      audit({ vms: [vm('a')], nics: [{ ...nic, vmId: 'a', position: 1 }] }),
      inventory({ vms: [invVm('a')], nics: [{ id: 'eth1', vmId: 'a', position: null }] }),
    );
    expect(attached.mismatches).toEqual([
      { kind: 'nic', id: 'eth1', field: 'attachedTo', inventory: null, node: 'a' },
      { kind: 'nic', id: 'eth1', field: 'position', inventory: null, node: 1 },
    ]);
  });

  it('compares a VM flagged error: a stuck VM shows what a human must fix', () => {
    const diff = diffNodeAudit(audit({ vms: [vm('stuck', 'stopped')] }), inventory({ vms: [invVm('stuck', 'error')] }));
    expect(diff.mismatches).toEqual([{ kind: 'vm', id: 'stuck', field: 'status', inventory: 'error', node: 'stopped' }]);
  });

  it('reports snapshots and interfaces the inventory does not know', () => {
    const diff = diffNodeAudit(
      audit({
        snapshots: [{ snapshotId: 's1', nodeId: 'n1', diskId: 'd', name: 's', sizeGb: 1, fsfreeze: false, createdAt: '' }],
        nics: [{ nicId: 'nic1', nodeId: 'n1', mac: 'm', network: 'public', vmId: null, position: null }],
      }),
      inventory({}),
    );
    expect(diff.orphans).toEqual([
      { kind: 'nic', id: 'nic1' },
      { kind: 'snapshot', id: 's1' },
    ]);
  });
});
