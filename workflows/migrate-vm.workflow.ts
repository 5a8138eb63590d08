import type { MigrateVmInput } from '../libs/contracts/src';
import { runOperation } from './operation-runner';
import { migrateVmPlan } from './plans/migrate.plan';

export async function migrateVmWorkflow(input: MigrateVmInput): Promise<void> {
  await runOperation({ operationId: input.operationId, vmId: input.vmId }, migrateVmPlan(input));
}
