import type { DeleteVmInput, OperationPlan, PlannedStep, RebuildVmInput, UpdateVmInput } from '../../libs/contracts/src';
import { startVmStep, stopVmStep } from './steps';

/**
 * vm.delete: [power off] → detach the disks and interfaces that stay → undefine → (no return from here) delete
 * the system disk and the first interface [and the other disks] → drop the record. Until the undefine, every
 * step is undone; the undefine's undo defines the VM again as it was.
 */
export function deleteVmPlan(input: DeleteVmInput): OperationPlan {
  const { nodeId, vmId, hostname, systemDisk, otherDisks, firstNic, otherNics, deleteAllDisks } = input;
  const shortId = (id: string) => id.slice(0, 8);
  const steps: PlannedStep[] = [
    ...(input.running ? [stopVmStep(nodeId, vmId, hostname, 0)] : []),
    // Detached disks (no position) stay as they are; attached ones are detached first.
    ...otherDisks
      .filter((d) => d.position > 0)
      .map((d): PlannedStep => ({
        name: `detachDisk${d.position}`,
        do: {
          activity: 'detachDisk',
          args: { nodeId, diskId: d.diskId, vmId },
          summary: `Detach disk ${shortId(d.diskId)} from ${hostname}`,
        },
        undo: {
          activity: 'attachDisk',
          args: { nodeId, diskId: d.diskId, vmId, position: d.position },
          summary: `Attach disk ${shortId(d.diskId)} again`,
        },
      })),
    ...otherNics.map((n): PlannedStep => ({
      name: `detachInterface${n.position}`,
      do: {
        activity: 'detachNic',
        args: { nodeId, nicId: n.nicId, vmId },
        summary: `Detach interface ${shortId(n.nicId)} from ${hostname}`,
      },
      undo: {
        activity: 'attachNic',
        args: { nodeId, nicId: n.nicId, vmId, position: n.position },
        summary: `Attach interface ${shortId(n.nicId)} again`,
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
    ...(systemDisk
      ? [
          {
            name: 'deleteSystemDisk',
            do: { activity: 'deleteDisk', args: { nodeId, diskId: systemDisk.diskId }, summary: `Delete the system disk of ${hostname}` },
          } as PlannedStep,
        ]
      : []),
    ...(firstNic
      ? [
          {
            name: 'deleteInterface',
            do: { activity: 'deleteNic', args: { nodeId, nicId: firstNic.nicId }, summary: `Delete the first interface of ${hostname}` },
          } as PlannedStep,
        ]
      : []),
    ...(deleteAllDisks
      ? otherDisks.map((d): PlannedStep => ({
          name: `deleteDisk:${shortId(d.diskId)}`,
          do: { activity: 'deleteDisk', args: { nodeId, diskId: d.diskId }, summary: `Delete disk ${shortId(d.diskId)}` },
        }))
      : []),
    {
      name: 'forgetVm',
      do: {
        activity: 'forgetVmRecord',
        args: { vmId, keepDiskIds: deleteAllDisks ? [] : otherDisks.map((d) => d.diskId) },
        summary: `Remove ${hostname} from the inventory${deleteAllDisks || !otherDisks.length ? '' : ', keeping its detached disks'}`,
      },
    },
  ];
  // The first deletion is the point of no return: the VM cannot be defined again without its disk.
  const firstDeletion = steps.findIndex((s) => s.name.startsWith('delete'));
  if (firstDeletion >= 0) steps[firstDeletion] = { ...steps[firstDeletion], commit: true };
  return { steps };
}

/** vm.update: [stop] → new vCPUs and memory on the node → [start] → record them. Undo: the old sizes. */
export function updateVmPlan({ nodeId, vmId, hostname, from, to, restart, stopTimeoutSeconds }: UpdateVmInput): OperationPlan {
  return {
    steps: [
      ...(restart ? [stopVmStep(nodeId, vmId, hostname, stopTimeoutSeconds)] : []),
      {
        name: 'resizeVm',
        do: { activity: 'resizeVm', args: { nodeId, vmId, ...to }, summary: `Give ${hostname} ${to.cpus} vCPU and ${to.memoryMb} MB` },
        undo: {
          activity: 'resizeVm',
          args: { nodeId, vmId, ...from },
          summary: `Give ${hostname} back ${from.cpus} vCPU and ${from.memoryMb} MB`,
        },
      },
      ...(restart ? [startVmStep(nodeId, vmId, hostname)] : []),
      {
        name: 'recordSize',
        do: { activity: 'recordVmSize', args: { vmId, ...to }, summary: `Record the new size of ${hostname}` },
        undo: { activity: 'recordVmSize', args: { vmId, ...from }, summary: `Record the old size of ${hostname}` },
      },
    ],
  };
}

/**
 * vm.rebuild (Gigas): [stop] → new disks (the system disk from the template, the others blank: zeroed) →
 * swap each old disk for its new one → [start, unless startAfter is false] → record → delete the old disks.
 * Any failure before the old disks are deleted puts them back.
 */
export function rebuildVmPlan(input: RebuildVmInput): OperationPlan {
  const { nodeId, vmId, hostname, replacements, templateId } = input;
  const short = (id: string) => id.slice(0, 8);
  const steps: PlannedStep[] = [...(input.running ? [stopVmStep(nodeId, vmId, hostname, input.stopTimeoutSeconds)] : [])];
  for (const r of replacements) {
    steps.push({
      name: `createDisk${r.position}`,
      do:
        r.position === 0
          ? {
              activity: 'createDiskFromTemplate',
              args: { nodeId, diskId: r.newDiskId, templateId, sizeGb: r.sizeGb },
              summary: `Create a new system disk of ${hostname} from the template`,
            }
          : {
              activity: 'createBlankDisk',
              args: { nodeId, diskId: r.newDiskId, sizeGb: r.sizeGb },
              summary: `Create a new, zeroed disk ${r.position} of ${hostname}`,
            },
      undo: { activity: 'deleteDisk', args: { nodeId, diskId: r.newDiskId }, summary: `Delete disk ${short(r.newDiskId)}` },
    });
  }
  for (const r of replacements) {
    steps.push(
      {
        name: `detachOldDisk${r.position}`,
        do: { activity: 'detachDisk', args: { nodeId, diskId: r.oldDiskId, vmId }, summary: `Detach old disk ${short(r.oldDiskId)}` },
        undo: {
          activity: 'attachDisk',
          args: { nodeId, diskId: r.oldDiskId, vmId, position: r.position },
          summary: `Attach old disk ${short(r.oldDiskId)} again`,
        },
      },
      {
        name: `attachNewDisk${r.position}`,
        do: {
          activity: 'attachDisk',
          args: { nodeId, diskId: r.newDiskId, vmId, position: r.position },
          summary: `Attach new disk ${short(r.newDiskId)} at ${r.position}`,
        },
        undo: { activity: 'detachDisk', args: { nodeId, diskId: r.newDiskId, vmId }, summary: `Detach new disk ${short(r.newDiskId)}` },
      },
    );
  }
  if (input.startAfter) steps.push(startVmStep(nodeId, vmId, hostname));
  for (const r of replacements) {
    steps.push({
      name: `recordDisk${r.position}`,
      do: {
        activity: 'replaceDiskRecord',
        args: { vmId, ...r },
        summary: `Record disk ${short(r.newDiskId)} in place of ${short(r.oldDiskId)}`,
      },
      undo: {
        activity: 'restoreDiskRecord',
        args: { vmId, oldDiskId: r.oldDiskId, newDiskId: r.newDiskId, position: r.position },
        summary: `Record disk ${short(r.oldDiskId)} back`,
      },
    });
  }
  steps.push({
    name: 'recordTemplate',
    do: { activity: 'recordVmTemplate', args: { vmId, templateId }, summary: `Record ${hostname} as built from its template` },
    undo: { activity: 'recordVmTemplate', args: { vmId, templateId: input.fromTemplateId }, summary: `Record the previous template` },
  });
  if (input.running !== input.startAfter) {
    const powerState = input.startAfter ? 'running' : 'stopped';
    steps.push({
      name: 'recordVm',
      do: { activity: 'recordVmStatus', args: { vmId, powerState }, summary: `Record ${hostname} as ${powerState}` },
      undo: {
        activity: 'recordVmStatus',
        args: { vmId, powerState: input.running ? 'running' : 'stopped' },
        summary: `Record ${hostname} as before`,
      },
    });
  }
  for (const [i, r] of replacements.entries()) {
    steps.push(
      {
        name: `deleteOldDisk${r.position}`,
        ...(i === 0 ? { commit: true as const } : {}),
        do: {
          activity: 'deleteDisk',
          args: { nodeId, diskId: r.oldDiskId },
          summary: `Delete old disk ${short(r.oldDiskId)} and its snapshots`,
        },
      },
      {
        name: `forgetOldDisk${r.position}`,
        do: { activity: 'forgetDiskRecord', args: { diskId: r.oldDiskId }, summary: `Drop the record of old disk ${short(r.oldDiskId)}` },
      },
    );
  }
  return { steps };
}
