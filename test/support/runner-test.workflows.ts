// Workflows for test/runner.test.ts only: the saga runner with any plan the test hands it.
import type { OperationPlan } from '../../libs/contracts/src';
import { runOperation } from '../../workflows/operation-runner';

export async function runPlanWorkflow(operationId: string, plan: OperationPlan): Promise<void> {
  await runOperation({ operationId, vmId: null }, plan);
}
