import { activities, commits, expectSound } from '../../test/support/plan-kit';
import { deleteTemplatePlan, deleteTemplateSummary } from './template.delete.plan';

describe('template.delete plan', () => {
  const input = { operationId: 'op', templateId: 'tpl', name: 'golden', nodeId: 'node-1' };

  it('deletes the image (no return), then the record; a failed deletion leaves the template ready', () => {
    const plan = deleteTemplatePlan(input);
    expectSound(plan);
    expect(activities(plan)).toEqual([
      ['deleteImage', null],
      ['forgetTemplate', null],
    ]);
    expect(commits(plan)).toEqual(['deleteImage']);
    expect(plan.afterCompensation).toMatchObject({ activity: 'markTemplateReady', args: { templateId: 'tpl' } });
    expect(deleteTemplateSummary(input)).toBe('template.delete golden');
  });
});
