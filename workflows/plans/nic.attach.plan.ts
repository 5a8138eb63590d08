import type { NicChangeInput, OperationPlan } from '../../libs/contracts/src';
import { nicNamed } from './steps';

/**
 * nic.attach (Gandi iface_attach): a detached interface of the VM's node → its position → recorded there. One no
 * VM owned (`claimed`) is nobody's again if the attach is undone.
 */
export function attachNicPlan({ nodeId, vmId, hostname, nicId, mac, position, claimed }: NicChangeInput): OperationPlan {
  const at = position ?? 0;
  return {
    steps: [
      {
        name: 'attachNic',
        do: {
          activity: 'attachNic',
          args: { nodeId, nicId, vmId, position: at },
          summary: `Attach ${nicNamed(mac)} to ${hostname} at ${at}`,
        },
        undo: { activity: 'detachNic', args: { nodeId, nicId, vmId }, summary: `Detach ${nicNamed(mac)}` },
      },
      {
        name: 'recordNic',
        do: { activity: 'recordNicSlot', args: { nicId, vmId, position: at }, summary: `Record ${nicNamed(mac)} at ${at}` },
      },
    ],
    ...(claimed
      ? {
          afterCompensation: {
            activity: 'recordNicSlot',
            args: { nicId, vmId: null, position: null },
            summary: `Record ${nicNamed(mac)} as no VM's again`,
          },
        }
      : {}),
  };
}
