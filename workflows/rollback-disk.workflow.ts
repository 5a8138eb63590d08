import type { DiskRollbackInput } from '../libs/contracts/src';
import { runOperation } from './operation-runner';
import { rollbackDiskPlan } from './plans/snapshot.plan';

/** disk.rollback: the headline saga; its steps and undos read top to bottom in rollbackDiskPlan. */
export async function rollbackDiskWorkflow(input: DiskRollbackInput): Promise<void> {
  await runOperation({ operationId: input.operationId, vmId: input.vmId }, rollbackDiskPlan(input));
}
