import type { OperationPlan, PlannedStep, RebuildVmInput } from '../../libs/contracts/src';
import { inOrder, short, startVmStep, stopVmStep } from './steps';

/**
 * vm.rebuild (Gigas): [stop] → new disks (the system disk from the template, the others blank: zeroed) →
 * swap each old disk for its new one → [start, unless startAfter is false] → record → delete the old disks.
 * Any failure before the old disks are deleted puts them back.
 */
export function rebuildVmPlan(input: RebuildVmInput): OperationPlan {
  const { nodeId, vmId, hostname, replacements, templateId } = input;
  const steps = inOrder<PlannedStep>(input.running && stopVmStep(nodeId, vmId, hostname, input.stopTimeoutSeconds));
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
