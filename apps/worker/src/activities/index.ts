import type { OperationActivities } from '@vmops/contracts';
import type { HypervisorDriver } from '@vmops/hypervisor';
import type { DataSource } from 'typeorm';
import { createDriverActivities } from './driver.activities';
import { createInventoryActivities } from './inventory.activities';
import { createReconcileActivities } from './reconcile.activities';

export interface ActivityDeps {
  dataSource: DataSource;
  driver: HypervisorDriver;
}

export function createActivities({ dataSource, driver }: ActivityDeps): OperationActivities {
  return { ...createInventoryActivities(dataSource), ...createDriverActivities(driver), ...createReconcileActivities(dataSource, driver) };
}
