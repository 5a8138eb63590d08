import { isDriverActivity, isWaitStep, type OperationPlan, type PlanStep } from '../../libs/contracts/src';

/** What the plan specs share: a VM to act on and the views of a plan they assert on. Imported by specs only. */
export const vm = { operationId: 'op', vmId: 'vm-1', hostname: 'web-1', nodeId: 'node-1' };

export const names = (plan: OperationPlan<PlanStep>): string[] => plan.steps.map((s) => s.name);
export const undone = (plan: OperationPlan<PlanStep>): string[] => plan.steps.filter((s) => s.undo).map((s) => s.name);
export const commits = (plan: OperationPlan<PlanStep>): string[] => plan.steps.filter((s) => s.commit).map((s) => s.name);
/** Each step as [its activity, its undo's activity or null]. */
export const activities = (plan: OperationPlan<PlanStep>): [string, string | null][] =>
  plan.steps.map((s) => [isWaitStep(s) ? `wait:${s.wait.for}` : s.do.activity, s.undo?.activity ?? null]);

/**
 * The rules every plan keeps, whatever its input: step names unique (they name the steps in the operation and its
 * history), a summary on every step, undo and wait (the Temporal UI shows them), at most one point of no return,
 * and every driver call addressed to a node (it runs on that node's agent).
 */
export function expectSound(plan: OperationPlan<PlanStep>): void {
  expect(plan.steps.length).toBeGreaterThan(0);
  expect(new Set(names(plan)).size).toBe(plan.steps.length);
  expect(commits(plan).length).toBeLessThanOrEqual(1);
  for (const step of plan.steps) {
    const calls = isWaitStep(step) ? [] : [step.do, ...(step.undo ? [step.undo] : [])];
    if (isWaitStep(step)) expect(step.wait.summary).not.toBe('');
    for (const call of calls) {
      expect(call.summary).not.toBe('');
      if (isDriverActivity(call.activity)) expect(call.args).toHaveProperty('nodeId', expect.any(String));
    }
  }
  if (plan.afterCompensation) expect(plan.afterCompensation.summary).not.toBe('');
}
