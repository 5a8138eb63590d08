import type { DiskEntity, NetworkInterfaceEntity, VmEntity } from '@vmops/persistence';

export interface VmView {
  id: string;
  hostname: string;
  label: string | null;
  note: string | null;
  cpus: number;
  memoryMb: number;
  status: string;
  frozen: boolean;
  /** A new size applied at the next stop, if one waits. */
  pendingSize: { cpus: number; memoryMb: number } | null;
  locked: boolean;
  currentOperationId: string | null;
  nodeId: string;
  templateId: string | null;
  /** Attached disks by position, then the VM's detached ones (position null). */
  disks: { id: string; position: number | null; sizeGb: number }[];
  interfaces: { id: string; position: number | null; mac: string; network: string; ipAddress: string | null }[];
  createdAt: string;
  updatedAt: string;
  links: { self: string; operations: string };
  /** With ?live=true on the list: the VM as its node has it now ('absent': the node has no such VM), or why it could not be read. */
  live?: { powerState: string; frozen: boolean } | { error: string } | null;
}

export function toVmView(vm: VmEntity, disks: DiskEntity[], nics: NetworkInterfaceEntity[] = []): VmView {
  return {
    id: vm.id,
    hostname: vm.hostname,
    label: vm.label,
    note: vm.note,
    cpus: vm.cpus,
    memoryMb: vm.memoryMb,
    status: vm.status,
    frozen: vm.frozen,
    pendingSize: vm.pendingCpus !== null && vm.pendingMemoryMb !== null ? { cpus: vm.pendingCpus, memoryMb: vm.pendingMemoryMb } : null,
    locked: vm.currentOperationId !== null,
    currentOperationId: vm.currentOperationId,
    nodeId: vm.nodeId,
    templateId: vm.templateId,
    disks: disks
      .filter((d) => d.vmId === vm.id)
      .sort((a, b) => (a.position ?? Infinity) - (b.position ?? Infinity))
      .map((d) => ({ id: d.id, position: d.position, sizeGb: d.sizeGb })),
    interfaces: nics
      .filter((n) => n.vmId === vm.id)
      .sort((a, b) => (a.position ?? Infinity) - (b.position ?? Infinity))
      .map((n) => ({ id: n.id, position: n.position, mac: n.mac, network: n.network, ipAddress: n.ipAddress })),
    createdAt: vm.createdAt.toISOString(),
    updatedAt: vm.updatedAt.toISOString(),
    links: { self: `/v1/vms/${vm.id}`, operations: `/v1/operations?vmId=${vm.id}` },
  };
}
