import { deleteNicPlan } from './nic.delete.plan';
import { commits, expectSound, names, vm } from '../../test/support/plan-kit';

describe('nic.delete plan', () => {
  const nic = { ...vm, nicId: 'eth1', mac: '52:00:00:00:00:01' };

  it('detaches only an attached interface and commits at the deletion', () => {
    const plan = deleteNicPlan({ ...nic, attachedAt: 1 });
    expectSound(plan);
    expect(names(plan)).toEqual(['detachNic', 'deleteNic', 'forgetNic']);
    expect(commits(plan)).toEqual(['deleteNic']);
    expect(names(deleteNicPlan({ ...nic, attachedAt: null }))).toEqual(['deleteNic', 'forgetNic']);
  });
});
