import type { CreateVmInput, OperationPlan, PlannedStep } from '../../libs/contracts/src';

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
      ...dataDisks.map(
        (d): PlannedStep => ({
          name: `createDataDisk${d.position}`,
          do: { activity: 'createBlankDisk', args: { nodeId, diskId: d.diskId, sizeGb: d.sizeGb }, summary: `Create data disk ${d.position} (${d.sizeGb} GB) of ${hostname}` },
          undo: { activity: 'deleteDisk', args: { nodeId, diskId: d.diskId }, summary: `Delete data disk ${d.position} of ${hostname}` },
        }),
      ),
      ...(input.nic
        ? [
            {
              name: 'createInterface',
              do: { activity: 'createNic', args: { nodeId, ...input.nic }, summary: `Create the ${input.nic.network} interface of ${hostname} (${input.nic.mac})` },
              undo: { activity: 'deleteNic', args: { nodeId, nicId: input.nic.nicId }, summary: `Delete the interface of ${hostname}` },
            } as PlannedStep,
          ]
        : []),
      {
        name: 'defineVm',
        do: {
          activity: 'defineVm',
          args: {
            nodeId,
            vmId,
            hostname,
            cpus: input.cpus,
            memoryMb: input.memoryMb,
            guestAgent: input.guestAgent ?? true,
            disks: [{ id: systemDiskId, position: 0 }, ...dataDisks.map((d) => ({ id: d.diskId, position: d.position }))],
            nics: input.nic ? [{ id: input.nic.nicId, position: 0 }] : [],
            ...(input.rootPasswordHash ? { rootPasswordHash: input.rootPasswordHash } : {}),
          },
          summary: `Define ${hostname} (${input.cpus} vCPU, ${input.memoryMb} MB) with its disks`,
        },
        undo: { activity: 'undefineVm', args: { nodeId, vmId }, summary: `Undefine ${hostname}` },
      },
      ...(input.start
        ? [
            {
              name: 'startVm',
              do: { activity: 'startVm', args: { nodeId, vmId }, summary: `Start ${hostname}` },
              undo: { activity: 'forceStopVm', args: { nodeId, vmId }, summary: `Force-stop ${hostname}` },
            } as const,
          ]
        : []),
      {
        name: 'recordVm',
        do: {
          activity: 'recordVmStatus',
          args: { vmId, powerState: input.start ? 'running' : 'stopped' },
          summary: `Record ${hostname} as ${input.start ? 'running' : 'stopped'} in the inventory`,
        },
      },
    ],
    afterCompensation: { activity: 'discardVmRecord', args: { vmId }, summary: `Remove the record of ${hostname}` },
  };
}
