import type { OperationPlan, VmPowerInput } from '../../libs/contracts/src';

/** vm.reset (admin, after a human fixed a stuck VM): the inventory takes the VM's state from its node. */
export function resetVmPlan({ vmId, nodeId, hostname }: VmPowerInput): OperationPlan {
  return {
    steps: [
      {
        name: 'resyncVm',
        do: { activity: 'resyncVmFromNode', args: { vmId, nodeId }, summary: `Record ${hostname} as its node has it now` },
      },
    ],
  };
}
