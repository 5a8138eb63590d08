import type { OperationPlan, VmPowerInput } from '../../libs/contracts/src';
import { freezeSteps } from './steps';

/** vm.unfreeze: the node lets the VM start again → the inventory records it. Undo: freeze. */
export function unfreezeVmPlan(input: VmPowerInput): OperationPlan {
  return { steps: freezeSteps(input, false) };
}
