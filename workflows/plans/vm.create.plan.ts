import type { CreateVmInput, OperationPlan, PlannedStep } from '../../libs/contracts/src';
import { assembleVmSteps } from './steps';

/**
 * vm.create: system disk from the template → data disks → network interface → define the VM with all of them
 * attached → start it (unless asked not to) → record it. Each creation is undone by a deletion.
 */
export function createVmPlan(input: CreateVmInput): OperationPlan {
  const { nodeId, vmId, systemDiskId, hostname } = input;
  const dataDisks = input.dataDisks ?? [];
  return {
    steps: [
      {
        name: 'createSystemDisk',
        do: {
          activity: 'createDiskFromTemplate',
          args: { nodeId, diskId: systemDiskId, templateId: input.templateId, sizeGb: input.systemDiskSizeGb },
          summary: `Create the ${input.systemDiskSizeGb} GB system disk of ${hostname} from its template`,
        },
        undo: { activity: 'deleteDisk', args: { nodeId, diskId: systemDiskId }, summary: `Delete the system disk of ${hostname}` },
      },
      ...dataDisks.map((d): PlannedStep => ({
        name: `createDataDisk${d.position}`,
        do: {
          activity: 'createBlankDisk',
          args: { nodeId, diskId: d.diskId, sizeGb: d.sizeGb },
          summary: `Create data disk ${d.position} (${d.sizeGb} GB) of ${hostname}`,
        },
        undo: { activity: 'deleteDisk', args: { nodeId, diskId: d.diskId }, summary: `Delete data disk ${d.position} of ${hostname}` },
      })),
      ...assembleVmSteps({
        nodeId,
        vmId,
        hostname,
        cpus: input.cpus,
        memoryMb: input.memoryMb,
        guestAgent: input.guestAgent ?? true,
        disks: [{ id: systemDiskId, position: 0 }, ...dataDisks.map((d) => ({ id: d.diskId, position: d.position }))],
        nic: input.nic ?? null,
        start: input.start,
        rootPasswordHash: input.rootPasswordHash,
      }),
    ],
    afterCompensation: { activity: 'discardVmRecord', args: { vmId }, summary: `Remove the record of ${hostname}` },
  };
}
