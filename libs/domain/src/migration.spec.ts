import { migrationTargets, targetRefusals, vmMigrationRefusals, type MigratingVm } from './migration';
import type { NodeCapacity } from './placement';

const vm: MigratingVm = {
  hostname: 'web-1',
  nodeId: 'a',
  status: 'running',
  frozen: false,
  cpus: 2,
  memoryMb: 2048,
  storageGb: 20,
  detachedDiskIds: [],
  neighbours: [],
};
const node = (id: string, extra: Partial<NodeCapacity> = {}): NodeCapacity => ({
  id,
  name: `node-${id}`,
  status: 'online',
  cpus: 8,
  memoryMb: 8192,
  storageGb: 100,
  usedCpus: 0,
  usedMemoryMb: 0,
  usedStorageGb: 0,
  ...extra,
});
const codes = (reasons: { code: string }[]) => reasons.map((r) => r.code);

describe('migration rules', () => {
  it('names every reason the VM itself cannot migrate', () => {
    expect(vmMigrationRefusals(vm, 'live')).toEqual([]);
    expect(codes(vmMigrationRefusals({ ...vm, status: 'stopped', frozen: true, detachedDiskIds: ['d1'] }, 'live'))).toEqual([
      'VM_NOT_RUNNING',
      'VM_FROZEN',
      'DETACHED_DISKS',
    ]);
    expect(codes(vmMigrationRefusals({ ...vm, status: 'stopped' }, 'cold'))).toEqual([]);
    expect(codes(vmMigrationRefusals({ ...vm, status: 'error' }, 'cold'))).toEqual(['VM_NOT_SETTLED']);
  });

  it('names every reason a node cannot take the VM, not just the first', () => {
    expect(codes(targetRefusals(vm, node('a')))).toEqual(['SAME_NODE']);
    expect(targetRefusals(vm, node('b'))).toEqual([]);
    const full = node('b', { status: 'maintenance', usedCpus: 7, usedMemoryMb: 8000, usedStorageGb: 90 });
    expect(codes(targetRefusals(vm, full))).toEqual([
      'NODE_NOT_ONLINE',
      'INSUFFICIENT_CPUS',
      'INSUFFICIENT_MEMORY',
      'INSUFFICIENT_STORAGE',
    ]);
    // Exactly full is still a fit.
    expect(targetRefusals(vm, node('b', { usedCpus: 6, usedMemoryMb: 6144, usedStorageGb: 80 }))).toEqual([]);
  });

  it('chooses the eligible node that keeps the most memory free', () => {
    const { targets, chosen } = migrationTargets(vm, [
      node('a'),
      node('b', { usedMemoryMb: 4096 }),
      node('c', { usedMemoryMb: 1024 }),
      node('d', { status: 'offline' }),
    ]);
    expect(targets.map((t) => [t.nodeId, t.eligible])).toEqual([
      ['a', false],
      ['b', true],
      ['c', true],
      ['d', false],
    ]);
    expect(chosen?.id).toBe('c');
    expect(migrationTargets(vm, [node('a')]).chosen).toBeNull();
  });

  it("refuses a node where a VM of one of the VM's anti-affinity groups is, naming the group and that VM; placement goes elsewhere", () => {
    const db = { groupId: 'g1', groupName: 'db-tier', vmId: 'v2', hostname: 'db-2', nodeId: 'b' };
    const segregated = { ...vm, neighbours: [db] };
    expect(targetRefusals(segregated, node('b'))).toEqual([
      {
        code: 'ANTI_AFFINITY',
        message: 'node-b already runs db-2, which is in anti-affinity group db-tier with web-1',
        group: { id: 'g1', name: 'db-tier' },
        vm: { id: 'v2', hostname: 'db-2' },
      },
    ]);
    // b keeps the most memory free, but holds db-2.
    const { chosen } = migrationTargets(segregated, [node('a'), node('b'), node('c', { usedMemoryMb: 4096 })]);
    expect(chosen?.id).toBe('c');
  });
});
