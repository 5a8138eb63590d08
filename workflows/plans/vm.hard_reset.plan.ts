import type { OperationPlan, VmPowerInput } from '../../libs/contracts/src';

/** vm.hard_reset (ElasticHosts reset): the reset button. Nothing to undo. */
export function hardResetVmPlan({ nodeId, vmId, hostname }: VmPowerInput): OperationPlan {
  return { steps: [{ name: 'resetVm', do: { activity: 'resetVm', args: { nodeId, vmId }, summary: `Hard-reset ${hostname}` } }] };
}
