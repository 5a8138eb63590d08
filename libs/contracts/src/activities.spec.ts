import { isLongDriverCall } from './activities';

describe('which driver calls go to a node’s long queue', () => {
  it('the calls that may take minutes, but not a stop that gives the guest no time (a power-off at once)', () => {
    const stop = (timeoutSeconds: number) => ({
      activity: 'stopVmWithTimeout',
      args: { nodeId: 'n', vmId: 'v', timeoutSeconds, onTimeout: 'force' },
    });
    expect(isLongDriverCall(stop(180))).toBe(true);
    expect(isLongDriverCall(stop(0))).toBe(false);
    expect(isLongDriverCall({ activity: 'stopVm', args: { nodeId: 'n', vmId: 'v', timeoutSeconds: 0 } })).toBe(false);
    expect(isLongDriverCall({ activity: 'createDiskFromSnapshot', args: { nodeId: 'n', diskId: 'd', snapshotId: 's' } })).toBe(true);
    expect(isLongDriverCall({ activity: 'startVm', args: { nodeId: 'n', vmId: 'v' } })).toBe(false);
    expect(isLongDriverCall({ activity: 'recordVmStatus', args: { vmId: 'v', powerState: 'stopped' } })).toBe(false);
  });
});
