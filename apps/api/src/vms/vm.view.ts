import type { DiskEntity, VmEntity } from '@vmops/persistence';

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
  disks: { id: string; position: number | null; sizeGb: number }[];
  createdAt: string;
  updatedAt: string;
  links: { self: string; operations: string };
}

export function toVmView(vm: VmEntity, disks: DiskEntity[]): VmView {
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
    createdAt: vm.createdAt.toISOString(),
    updatedAt: vm.updatedAt.toISOString(),
    links: { self: `/v1/vms/${vm.id}`, operations: `/v1/operations?vmId=${vm.id}` },
  };
}
