import type { DriverActivities } from '@vmops/contracts';
import type { HypervisorDriver } from '@vmops/hypervisor';
import { step } from './step';

/** Driver steps: thin, idempotent calls into the hypervisor of the node named in the arguments. */
export function createDriverActivities(driver: HypervisorDriver): DriverActivities {
  return {
    createDiskFromTemplate: step(({ nodeId, diskId, templateId, sizeGb }) =>
      driver.createDiskFromTemplate(nodeId, { diskId, templateId, sizeGb }),
    ),
    deleteDisk: step(({ nodeId, diskId }) => driver.deleteDisk(nodeId, diskId)),
    defineVm: step(({ nodeId, ...definition }) => driver.defineVm(nodeId, definition)),
    undefineVm: step(({ nodeId, vmId }) => driver.undefineVm(nodeId, vmId)),
    startVm: step(({ nodeId, vmId }) => driver.startVm(nodeId, vmId)),
    forceStopVm: step(({ nodeId, vmId }) => driver.forceStopVm(nodeId, vmId)),
  };
}
