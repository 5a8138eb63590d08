import { activities, expectSound, vm } from '../../test/support/plan-kit';
import { createTemplatePlan } from './template.create.plan';

describe('template.create plan', () => {
  it('captures the system disk (undo: delete the image), marks the template ready, drops its record when undone', () => {
    const plan = createTemplatePlan({ ...vm, templateId: 'tpl', name: 'golden', diskId: 'd', fsfreeze: false });
    expectSound(plan);
    expect(activities(plan)).toEqual([
      ['captureImage', 'deleteImage'],
      ['markTemplateReady', null],
    ]);
    expect(plan.steps[0].do.args).toEqual({ nodeId: 'node-1', imageId: 'tpl', diskId: 'd', fsfreeze: false });
    expect(plan.afterCompensation).toMatchObject({ activity: 'forgetTemplate', args: { templateId: 'tpl' } });
  });
});
