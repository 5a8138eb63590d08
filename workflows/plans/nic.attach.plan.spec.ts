import { attachNicPlan } from './nic.attach.plan';
import { activities, expectSound, vm } from '../../test/support/plan-kit';

describe('nic.attach plan', () => {
  const nic = { ...vm, nicId: 'eth1', mac: '52:00:00:00:00:01', attachedAt: null };

  it('attaches at its position (undo: detach) and records it there', () => {
    const plan = attachNicPlan({ ...nic, position: 2 });
    expectSound(plan);
    expect(activities(plan)).toEqual([
      ['attachNic', 'detachNic'],
      ['recordNicSlot', null],
    ]);
    expect(plan.steps[1].do.args).toEqual({ nicId: 'eth1', vmId: 'vm-1', position: 2 });
    expect(plan.afterCompensation).toBeUndefined();
  });

  it("a claimed interface (its VM was deleted) is nobody's again when undone", () => {
    expect(attachNicPlan({ ...nic, position: 2, claimed: true }).afterCompensation?.args).toEqual({
      nicId: 'eth1',
      vmId: null,
      position: null,
    });
  });
});
