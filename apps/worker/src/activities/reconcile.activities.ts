import type { ReconcileActivities } from '@vmops/contracts';
import type { HypervisorDriver } from '@vmops/hypervisor';
import type { DataSource } from 'typeorm';
import { step } from './step';

export function createReconcileActivities(dataSource: DataSource, driver: HypervisorDriver): ReconcileActivities {
  return {
    resyncVmFromNode: step(async ({ vmId, nodeId }) => {
      const live = await driver.getVm(nodeId, vmId);
      await dataSource.transaction(async (tx) => {
        if (!live) {
          await tx.query(`DELETE FROM disks WHERE vm_id = $1`, [vmId]);
          await tx.query(`DELETE FROM vms WHERE id = $1`, [vmId]);
          return;
        }
        await tx.query(`UPDATE vms SET status = $2, updated_at = now() WHERE id = $1`, [vmId, live.powerState]);
      });
    }),
  };
}
