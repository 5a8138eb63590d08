import { antiAffinityConflict, antiAffinityMessage, type GroupNeighbour } from './anti-affinity';
import { pickNode, type NodeCapacity } from './placement';

/** One reason a VM cannot migrate, or cannot migrate to one node. */
export interface MigrationRefusal {
  code:
    | 'VM_NOT_SETTLED'
    | 'VM_NOT_RUNNING'
    | 'VM_FROZEN'
    | 'DETACHED_DISKS'
    | 'SAME_NODE'
    | 'NODE_NOT_ONLINE'
    | 'INSUFFICIENT_CPUS'
    | 'INSUFFICIENT_MEMORY'
    | 'INSUFFICIENT_STORAGE'
    | 'ANTI_AFFINITY';
  message: string;
  /** ANTI_AFFINITY: the group, and its VM already on the node. */
  group?: { id: string; name: string };
  vm?: { id: string; hostname: string };
}

export interface MigratingVm {
  hostname: string;
  nodeId: string;
  status: string;
  frozen: boolean;
  cpus: number;
  memoryMb: number;
  /** Every disk the VM has, attached or not. */
  storageGb: number;
  /** Disks recorded as the VM's but detached: they live on its node and would be left behind. */
  detachedDiskIds: string[];
  /** The VMs it shares an anti-affinity group with, on every node they occupy. */
  neighbours: GroupNeighbour[];
}

export type MigrationMode = 'live' | 'cold';

/** The VM's own reasons not to migrate in `mode` (wherever to), every one of them. */
export function vmMigrationRefusals(vm: MigratingVm, mode: MigrationMode): MigrationRefusal[] {
  const reasons: MigrationRefusal[] = [];
  if (vm.status !== 'running' && vm.status !== 'stopped') {
    reasons.push({ code: 'VM_NOT_SETTLED', message: `${vm.hostname} is ${vm.status}; only a running or stopped VM migrates` });
  } else if (mode === 'live' && vm.status !== 'running') {
    reasons.push({ code: 'VM_NOT_RUNNING', message: `${vm.hostname} is ${vm.status}: a live migration needs it running; use mode cold` });
  }
  if (vm.frozen) reasons.push({ code: 'VM_FROZEN', message: `${vm.hostname} is frozen; unfreeze it first` });
  if (vm.detachedDiskIds.length) {
    reasons.push({
      code: 'DETACHED_DISKS',
      message: `${vm.hostname} has ${vm.detachedDiskIds.length} detached disk(s) (${vm.detachedDiskIds.join(', ')}) that would stay behind; attach or delete them first`,
    });
  }
  return reasons;
}

/**
 * Why `node` cannot take the VM, every reason (none: it can). `node`'s usage must not count the VM already (it is
 * on another node, or the reason is SAME_NODE).
 */
export function targetRefusals(vm: MigratingVm, node: NodeCapacity): MigrationRefusal[] {
  if (node.id === vm.nodeId) return [{ code: 'SAME_NODE', message: `${vm.hostname} is already on ${node.name}` }];
  const reasons: MigrationRefusal[] = [];
  if (node.status !== 'online') reasons.push({ code: 'NODE_NOT_ONLINE', message: `${node.name} is ${node.status}` });
  const free = {
    cpus: node.cpus - node.usedCpus,
    memoryMb: node.memoryMb - node.usedMemoryMb,
    storageGb: node.storageGb - node.usedStorageGb,
  };
  if (vm.cpus > free.cpus)
    reasons.push({ code: 'INSUFFICIENT_CPUS', message: `${node.name} has ${free.cpus} vCPU free; ${vm.hostname} needs ${vm.cpus}` });
  if (vm.memoryMb > free.memoryMb) {
    reasons.push({
      code: 'INSUFFICIENT_MEMORY',
      message: `${node.name} has ${free.memoryMb} MB of memory free; ${vm.hostname} needs ${vm.memoryMb}`,
    });
  }
  if (vm.storageGb > free.storageGb) {
    reasons.push({
      code: 'INSUFFICIENT_STORAGE',
      message: `${node.name} has ${free.storageGb} GB of storage free; ${vm.hostname} needs ${vm.storageGb}`,
    });
  }
  const neighbour = antiAffinityConflict(vm.neighbours, node.id);
  if (neighbour) {
    reasons.push({
      code: 'ANTI_AFFINITY',
      message: antiAffinityMessage(vm.hostname, neighbour, node.name),
      group: { id: neighbour.groupId, name: neighbour.groupName },
      vm: { id: neighbour.vmId, hostname: neighbour.hostname },
    });
  }
  return reasons;
}

export interface MigrationTarget {
  nodeId: string;
  name: string;
  eligible: boolean;
  reasons: MigrationRefusal[];
}

/** Every node judged as a target, and the one placement would choose (the eligible node that keeps the most memory free). */
export function migrationTargets(
  vm: MigratingVm,
  nodes: readonly NodeCapacity[],
): { targets: MigrationTarget[]; chosen: NodeCapacity | null } {
  const targets = nodes.map((node) => {
    const reasons = targetRefusals(vm, node);
    return { nodeId: node.id, name: node.name, eligible: reasons.length === 0, reasons };
  });
  const eligible = nodes.filter((_, i) => targets[i].eligible);
  return { targets, chosen: pickNode(eligible, { cpus: vm.cpus, memoryMb: vm.memoryMb, storageGb: vm.storageGb }) };
}
