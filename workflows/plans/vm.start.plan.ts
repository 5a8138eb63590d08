import type { OperationPlan, VmPowerInput } from '../../libs/contracts/src';
import { recordPowerStateStep, startVmStep } from './steps';

/** vm.start: power the VM on (booting once from an ISO if asked) → record it running. Undo: power it off again. */
export function startVmPlan({ nodeId, vmId, hostname, bootIso }: VmPowerInput): OperationPlan {
  const start = startVmStep(nodeId, vmId, hostname);
  if (bootIso)
    start.do = { activity: 'startVm', args: { nodeId, vmId, bootIso }, summary: `Start ${hostname}, booting once from ${bootIso}` };
  return { steps: [start, recordPowerStateStep(vmId, hostname, 'running')] };
}
