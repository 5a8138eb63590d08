import type { NicChangeInput, OperationPlan, PlannedStep } from '../../libs/contracts/src';
import { detachNicStep, inOrder, nicNamed } from './steps';

/** nic.delete: [detach] → delete it on the node (its MAC is gone for good: no return) → drop its record. */
export function deleteNicPlan(input: NicChangeInput): OperationPlan {
  const { nodeId, hostname, nicId, mac, attachedAt } = input;
  return {
    steps: inOrder<PlannedStep>(
      attachedAt !== null && detachNicStep(input, attachedAt),
      {
        name: 'deleteNic',
        commit: true,
        do: { activity: 'deleteNic', args: { nodeId, nicId }, summary: `Delete ${nicNamed(mac)} of ${hostname}` },
      },
      { name: 'forgetNic', do: { activity: 'forgetNicRecord', args: { nicId }, summary: `Drop the record of ${nicNamed(mac)}` } },
    ),
  };
}
