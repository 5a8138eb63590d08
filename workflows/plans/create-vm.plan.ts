import type { CreateVmInput, OperationPlan } from '../../libs/contracts/src';

/** vm.create: system disk from the template → define the VM → start it (unless asked not to) → record it. */
export function createVmPlan(input: CreateVmInput): OperationPlan {
  const { nodeId, vmId, systemDiskId } = input;
  return {
    steps: [
      {
        name: 'createSystemDisk',
        do: {
          activity: 'createDiskFromTemplate',
          args: { nodeId, diskId: systemDiskId, templateId: input.templateId, sizeGb: input.systemDiskSizeGb },
          summary: `Create the ${input.systemDiskSizeGb} GB system disk of ${input.hostname} from its template`,
        },
        undo: { activity: 'deleteDisk', args: { nodeId, diskId: systemDiskId }, summary: `Delete the system disk of ${input.hostname}` },
      },
      {
        name: 'defineVm',
        do: {
          activity: 'defineVm',
          args: {
            nodeId,
            vmId,
            hostname: input.hostname,
            cpus: input.cpus,
            memoryMb: input.memoryMb,
            guestAgent: input.guestAgent ?? true,
            disks: [{ id: systemDiskId, position: 0 }],
            nics: [],
          },
          summary: `Define ${input.hostname} (${input.cpus} vCPU, ${input.memoryMb} MB) with its system disk`,
        },
        undo: { activity: 'undefineVm', args: { nodeId, vmId }, summary: `Undefine ${input.hostname}` },
      },
      ...(input.start
        ? [
            {
              name: 'startVm',
              do: { activity: 'startVm', args: { nodeId, vmId }, summary: `Start ${input.hostname}` },
              undo: { activity: 'forceStopVm', args: { nodeId, vmId }, summary: `Force-stop ${input.hostname}` },
            } as const,
          ]
        : []),
      {
        name: 'recordVm',
        do: {
          activity: 'recordVmStatus',
          args: { vmId, powerState: input.start ? 'running' : 'stopped' },
          summary: `Record ${input.hostname} as ${input.start ? 'running' : 'stopped'} in the inventory`,
        },
      },
    ],
    afterCompensation: { activity: 'discardVmRecord', args: { vmId }, summary: `Remove the record of ${input.hostname}` },
  };
}
