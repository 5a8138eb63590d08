import type { OperationPlan, PlannedStep, UpdateVmInput } from '../../libs/contracts/src';
import { inOrder, startVmStep, stopVmStep } from './steps';

/** vm.update: [stop] → new vCPUs and memory on the node → [start] → record them. Undo: the old sizes. */
export function updateVmPlan({ nodeId, vmId, hostname, from, to, restart, stopTimeoutSeconds }: UpdateVmInput): OperationPlan {
  return {
    steps: inOrder<PlannedStep>(
      restart && stopVmStep(nodeId, vmId, hostname, stopTimeoutSeconds),
      {
        name: 'resizeVm',
        do: { activity: 'resizeVm', args: { nodeId, vmId, ...to }, summary: `Give ${hostname} ${to.cpus} vCPU and ${to.memoryMb} MB` },
        undo: {
          activity: 'resizeVm',
          args: { nodeId, vmId, ...from },
          summary: `Give ${hostname} back ${from.cpus} vCPU and ${from.memoryMb} MB`,
        },
      },
      restart && startVmStep(nodeId, vmId, hostname),
      {
        name: 'recordSize',
        do: { activity: 'recordVmSize', args: { vmId, ...to }, summary: `Record the new size of ${hostname}` },
        undo: { activity: 'recordVmSize', args: { vmId, ...from }, summary: `Record the old size of ${hostname}` },
      },
    ),
  };
}
