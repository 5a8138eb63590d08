import { createNicPlan } from './nic.create.plan';
import { activities, expectSound, vm } from '../../test/support/plan-kit';

describe('nic.create plan', () => {
  it('creates the interface and attaches it at its position (each undone), records it, and drops the record when undone', () => {
    const plan = createNicPlan({ ...vm, nic: { nicId: 'eth1', mac: '52:00:00:00:00:01', network: 'private' }, position: 1 });
    expectSound(plan);
    expect(activities(plan)).toEqual([
      ['createNic', 'deleteNic'],
      ['attachNic', 'detachNic'],
      ['recordNicSlot', null],
    ]);
    expect(plan.steps[0].do.args).toEqual({ nodeId: 'node-1', nicId: 'eth1', mac: '52:00:00:00:00:01', network: 'private' });
    expect(plan.steps[0].do.summary).toContain('52:00:00:00:00:01');
    expect(plan.afterCompensation).toMatchObject({ activity: 'forgetNicRecord', args: { nicId: 'eth1' } });
  });
});
