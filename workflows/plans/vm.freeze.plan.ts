import type { OperationPlan, VmPowerInput } from '../../libs/contracts/src';
import { freezeSteps } from './steps';

/** vm.freeze: the node holds the VM (it refuses to start) → the inventory records it. Undo: unfreeze. */
export function freezeVmPlan(input: VmPowerInput): OperationPlan {
  return { steps: freezeSteps(input, true) };
}
