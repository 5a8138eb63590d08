import type { TemplateCreateInput, TemplateDeleteInput } from '../libs/contracts/src';
import { runOperation } from './operation-runner';
import { createTemplatePlan, deleteTemplatePlan } from './plans/template.plan';

// Templates made from VMs; their plans are in plans/template.plan.ts.

export async function createTemplateWorkflow(input: TemplateCreateInput): Promise<void> {
  await runOperation({ operationId: input.operationId, vmId: input.vmId }, createTemplatePlan(input));
}

export async function deleteTemplateWorkflow(input: TemplateDeleteInput): Promise<void> {
  await runOperation({ operationId: input.operationId, vmId: null }, deleteTemplatePlan(input));
}
