import type { NicChangeInput, OperationPlan } from '../../libs/contracts/src';
import { detachNicStep, nicNamed } from './steps';

/** nic.detach (Gandi iface_detach): the interface stays the VM's, detached; a VM may end with none. */
export function detachNicPlan(input: NicChangeInput): OperationPlan {
  const { vmId, nicId, mac, attachedAt } = input;
  return {
    steps: [
      detachNicStep(input, attachedAt ?? 0),
      {
        name: 'recordNic',
        do: { activity: 'recordNicSlot', args: { nicId, vmId, position: null }, summary: `Record ${nicNamed(mac)} detached` },
      },
    ],
  };
}
