import { detachNicPlan } from './nic.detach.plan';
import { activities, expectSound, vm } from '../../test/support/plan-kit';

describe('nic.detach plan', () => {
  it('detaches (undo: attach where it was) and records it detached: it stays the VM’s', () => {
    const plan = detachNicPlan({ ...vm, nicId: 'eth1', mac: '52:00:00:00:00:01', attachedAt: 1 });
    expectSound(plan);
    expect(activities(plan)).toEqual([
      ['detachNic', 'attachNic'],
      ['recordNicSlot', null],
    ]);
    expect(plan.steps[0].undo?.args).toMatchObject({ position: 1 });
    expect(plan.steps[1].do.args).toEqual({ nicId: 'eth1', vmId: 'vm-1', position: null });
  });
});
