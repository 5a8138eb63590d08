import { parseOperationEventNotice } from './notifications';

describe('parseOperationEventNotice', () => {
  const id = '6f1d3c1e-0c1a-4a43-9a4e-1f2b3c4d5e6f';
  const record = {
    id,
    tenant_id: 't1',
    requested_by_tenant_id: null,
    vm_id: null,
    type: 'vm.stop',
    status: 'succeeded',
    workflow_id: 'vm-stop-a-1',
    steps: [{ name: 'stop guest', status: 'succeeded' }],
    error: null,
    children: [],
    created_at: '2026-12-03 02:15:36.845923+00',
    updated_at: '2026-12-03 02:15:37.9+00',
    deadline_at: null,
    finished_at: '2026-12-03 02:15:37.9+00',
  };

  it('reads an event without a record', () => {
    expect(parseOperationEventNotice(`12 ${id} t1 running`)).toEqual({ eventId: 12, operationId: id, tenantId: 't1', status: 'running' });
  });

  it("reads an end's final record, its times as the driver parses a timestamptz", () => {
    const notice = parseOperationEventNotice(`13 ${id} t1 succeeded ${JSON.stringify(record, null, 1)}`);
    expect(notice).toMatchObject({ eventId: 13, operationId: id, status: 'succeeded' });
    expect(notice!.record).toEqual({
      ...record,
      created_at: new Date('2026-12-03T02:15:36.845Z'),
      updated_at: new Date('2026-12-03T02:15:37.900Z'),
      finished_at: new Date('2026-12-03T02:15:37.900Z'),
    });
  });

  it('drops a record that does not parse, is of another operation or lacks a column: the listener reads the row', () => {
    const { vm_id: _, ...partial } = record;
    for (const rest of ['{"id": ', JSON.stringify({ ...record, id: 'another' }), JSON.stringify(partial)]) {
      expect(parseOperationEventNotice(`14 ${id} t1 failed ${rest}`)).toEqual({
        eventId: 14,
        operationId: id,
        tenantId: 't1',
        status: 'failed',
      });
    }
  });

  it('refuses what is not an event', () => {
    expect(parseOperationEventNotice('x y')).toBeNull();
    expect(parseOperationEventNotice(`abc ${id} t1 failed`)).toBeNull();
  });
});
