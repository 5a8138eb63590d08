import type { DeleteVmInput, OperationPlan, PlannedStep } from '../../libs/contracts/src';
import { detachDiskStep, inOrder, short, stopVmStep } from './steps';

/**
 * vm.delete: [power off] → detach the disks and interfaces that stay → undefine → (no return from here) delete
 * the system disk and the first interface [and the other disks] → drop the record. Until the undefine, every
 * step is undone; the undefine's undo defines the VM again as it was.
 */
export function deleteVmPlan(input: DeleteVmInput): OperationPlan {
  const { nodeId, vmId, hostname, systemDisk, otherDisks, firstNic, otherNics, deleteAllDisks } = input;
  const steps = inOrder<PlannedStep>(
    input.running && stopVmStep(nodeId, vmId, hostname, 0),
    // Detached disks (no position) stay as they are; attached ones are detached first.
    otherDisks.filter((d) => d.position > 0).map((d) => detachDiskStep(input, d.diskId, d.position, `detachDisk${d.position}`)),
    otherNics.map((n): PlannedStep => ({
      name: `detachInterface${n.position}`,
      do: {
        activity: 'detachNic',
        args: { nodeId, nicId: n.nicId, vmId },
        summary: `Detach interface ${short(n.nicId)} from ${hostname}`,
      },
      undo: {
        activity: 'attachNic',
        args: { nodeId, nicId: n.nicId, vmId, position: n.position },
        summary: `Attach interface ${short(n.nicId)} again`,
      },
    })),
    {
      name: 'undefineVm',
      do: { activity: 'undefineVm', args: { nodeId, vmId }, summary: `Undefine ${hostname}` },
      undo: {
        activity: 'defineVm',
        args: {
          nodeId,
          vmId,
          hostname,
          cpus: input.cpus,
          memoryMb: input.memoryMb,
          guestAgent: true,
          disks: systemDisk ? [{ id: systemDisk.diskId, position: 0 }] : [],
          nics: firstNic ? [{ id: firstNic.nicId, position: firstNic.position }] : [],
        },
        summary: `Define ${hostname} again`,
      },
    },
    systemDisk && {
      name: 'deleteSystemDisk',
      do: { activity: 'deleteDisk', args: { nodeId, diskId: systemDisk.diskId }, summary: `Delete the system disk of ${hostname}` },
    },
    firstNic && {
      name: 'deleteInterface',
      do: { activity: 'deleteNic', args: { nodeId, nicId: firstNic.nicId }, summary: `Delete the first interface of ${hostname}` },
    },
    deleteAllDisks &&
      otherDisks.map((d): PlannedStep => ({
        name: `deleteDisk:${short(d.diskId)}`,
        do: { activity: 'deleteDisk', args: { nodeId, diskId: d.diskId }, summary: `Delete disk ${short(d.diskId)}` },
      })),
    {
      name: 'forgetVm',
      do: {
        activity: 'forgetVmRecord',
        args: { vmId, keepDiskIds: deleteAllDisks ? [] : otherDisks.map((d) => d.diskId) },
        summary: `Remove ${hostname} from the inventory${deleteAllDisks || !otherDisks.length ? '' : ', keeping its detached disks'}`,
      },
    },
  );
  // The first deletion is the point of no return: the VM cannot be defined again without its disk.
  const firstDeletion = steps.findIndex((s) => s.name.startsWith('delete'));
  if (firstDeletion >= 0) steps[firstDeletion] = { ...steps[firstDeletion], commit: true };
  return { steps };
}
