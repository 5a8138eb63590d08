import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { OPERATION_EVENTS_CHANNEL, parseOperationEventNotice, type OperationEventNotice } from '../libs/persistence/src';
import { startHarness, type Harness } from './support/harness';
import { readEvents } from './support/sse';

/**
 * Reads that do not poll and pages that do not count: /wait and the event stream answer when the database
 * announces a change (NOTIFY), and the VM and operation lists page by keyset with a total only on request.
 */
describe('event-driven waits and keyset pages', () => {
  let h: Harness;
  let key: string;
  let tenantId: string;
  let otherKey: string;
  let otherTenantId: string;

  beforeAll(async () => {
    h = await startHarness();
    ({ apiKey: key, tenantId } = await h.newTenant());
    ({ apiKey: otherKey, tenantId: otherTenantId } = await h.newTenant());
  });
  afterAll(() => h.close());

  /** An operation record with no workflow behind it: the test plays the worker that finishes it. */
  const runningOperation = async (tenant: string): Promise<string> => {
    const id = randomUUID();
    await h.dataSource.query(
      `INSERT INTO operations (id, tenant_id, vm_id, type, status, workflow_id, request) VALUES ($1, $2, NULL, 'vm.stop', 'running', $3, '{}')`,
      [id, tenant, `reads-test-${id}`],
    );
    return id;
  };
  const finish = async (id: string): Promise<number> => {
    await h.dataSource.query(`UPDATE operations SET status = 'succeeded', finished_at = now(), updated_at = now() WHERE id = $1`, [id]);
    return Date.now();
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

  it('/wait answers as soon as the final record commits, not at a poll', async () => {
    const lags: number[] = [];
    for (let i = 0; i < 12; i++) {
      const id = await runningOperation(tenantId);
      const answered = h.call('GET', `/v1/operations/${id}/wait?timeout=10`, { key }).then((res) => ({ res, at: Date.now() }));
      await new Promise((r) => setTimeout(r, 150 + 37 * i));
      const committedAt = await finish(id);
      const { res, at } = await answered;
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id, status: 'succeeded' });
      lags.push(at - committedAt);
    }
    // A 250 ms poll answers 125 ms late on average, and a fallback read every 2 s far later.
    expect(median(lags)).toBeLessThan(40);
    expect(Math.max(...lags)).toBeLessThan(200);
  });

  it('/wait answers from the final record its end announced: the answer a read gives, to the tenant that asked for it too; a record too large to announce is read', async () => {
    const listener = new Client({ connectionString: h.databaseUrl });
    await listener.connect();
    const heard = new Map<string, OperationEventNotice>();
    listener.on('notification', (n) => {
      const notice = n.payload ? parseOperationEventNotice(n.payload) : null;
      if (notice?.record) heard.set(notice.operationId, notice);
    });
    await listener.query(`LISTEN ${OPERATION_EVENTS_CHANNEL}`);
    try {
      const step = (name: string, status: string) => ({
        name,
        status,
        startedAt: '2026-12-03T01:00:00.123Z',
        finishedAt: status === 'succeeded' ? '2026-12-03T01:00:01.456Z' : null,
        attempts: 2,
        error: status === 'failed' ? 'the guest did not stop in time' : null,
      });
      const cases = [
        { steps: [step('stop guest', 'succeeded'), step('record state', 'failed')], askedBy: otherTenantId, announced: true },
        // 400 steps (a drain's): more than a NOTIFY carries.
        { steps: Array.from({ length: 400 }, (_, i) => step(`migrate vm-${i}`, 'succeeded')), askedBy: tenantId, announced: false },
      ];
      for (const c of cases) {
        const id = await runningOperation(tenantId);
        await h.dataSource.query(
          `UPDATE operations SET steps = $2::jsonb, requested_by_tenant_id = $3, deadline_at = now() + interval '1 hour' WHERE id = $1`,
          [id, JSON.stringify(c.steps), c.askedBy === tenantId ? null : c.askedBy],
        );
        const askerKey = c.askedBy === tenantId ? key : otherKey;
        const answered = h.call('GET', `/v1/operations/${id}/wait?timeout=10`, { key: askerKey });
        await new Promise((r) => setTimeout(r, 200));
        await h.dataSource.query(
          `UPDATE operations SET status = 'failed', error = $2::jsonb, finished_at = now(), updated_at = now() WHERE id = $1`,
          [id, JSON.stringify({ code: 'STEP_FAILED', message: 'record state failed', step: 'record state' })],
        );
        const waited = await answered;
        expect(waited.status).toBe(200);
        expect(waited.body).toMatchObject({ id, status: 'failed', error: { code: 'STEP_FAILED' } });
        // The same answer as a read of the operation afterwards, times to the millisecond included.
        const read = await h.call('GET', `/v1/operations/${id}`, { key: askerKey });
        expect(waited.body).toEqual(read.body);
        await new Promise((r) => setTimeout(r, 100));
        expect(heard.has(id)).toBe(c.announced);
      }
    } finally {
      await listener.end();
    }
  });

  it('/wait of many operations at once: each answers when its own ends, whatever the others do', async () => {
    const ids = await Promise.all(Array.from({ length: 30 }, () => runningOperation(tenantId)));
    const answers = ids.map((id) =>
      h.call('GET', `/v1/operations/${id}/wait?timeout=10`, { key }).then((res) => ({ res, at: Date.now() })),
    );
    await new Promise((r) => setTimeout(r, 300));
    const firstHalf = ids.slice(0, 15);
    const committedAt = Date.now();
    await h.dataSource.query(`UPDATE operations SET status = 'failed', finished_at = now() WHERE id = ANY($1::uuid[])`, [firstHalf]);
    const early = await Promise.all(answers.slice(0, 15));
    for (const [i, { res, at }] of early.entries()) {
      expect(res.body).toMatchObject({ id: firstHalf[i], status: 'failed' });
      expect(at - committedAt).toBeLessThan(500);
    }
    // The others are still waiting; they end at their own finish.
    const rest = await Promise.race([Promise.all(answers.slice(15)), new Promise((r) => setTimeout(() => r('still waiting'), 300))]);
    expect(rest).toBe('still waiting');
    await h.dataSource.query(`UPDATE operations SET status = 'succeeded', finished_at = now() WHERE id = ANY($1::uuid[])`, [ids.slice(15)]);
    for (const { res } of await Promise.all(answers.slice(15))) expect(res.body.status).toBe('succeeded');
  });

  it('/wait answers an end announced while the listening connection was down, once it is back, not at a safety read', async () => {
    const id = await runningOperation(tenantId);
    const answered = h.call('GET', `/v1/operations/${id}/wait?timeout=20`, { key });
    await new Promise((r) => setTimeout(r, 200));
    // The API's listener dropped, and the end committed before it listens again: its announcement is lost.
    const [{ dropped }] = await h.dataSource.query(
      `SELECT count(pg_terminate_backend(pid))::int AS dropped FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`,
    );
    expect(dropped).toBe(1);
    const committedAt = await finish(id);
    const res = await answered;
    expect(res.body).toMatchObject({ id, status: 'succeeded' });
    expect(Date.now() - committedAt).toBeLessThan(3000);
  });

  it('a timed-out /wait answers with the state at its deadline', async () => {
    const id = await runningOperation(tenantId);
    const started = Date.now();
    const res = await h.call('GET', `/v1/operations/${id}/wait?timeout=1`, { key });
    expect(res.body).toMatchObject({ id, status: 'running' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    await finish(id);
  });

  it('the event stream delivers a change as soon as it commits, and only to its tenant', async () => {
    const res = await fetch(`${h.baseUrl}/v1/events`, { headers: { authorization: `Bearer ${key}` } });
    const other = await fetch(`${h.baseUrl}/v1/events`, { headers: { authorization: `Bearer ${otherKey}` } });
    await new Promise((r) => setTimeout(r, 300));
    const mine = await runningOperation(tenantId);
    const theirs = await runningOperation(otherTenantId);
    const events = readEvents(res, (seen) => seen.some((e) => e.data.operationId === mine && e.data.status === 'succeeded'), 10_000);
    const theirEvents = readEvents(
      other,
      (seen) => seen.some((e) => e.data.operationId === theirs && e.data.status === 'succeeded'),
      10_000,
    );
    await new Promise((r) => setTimeout(r, 200));
    await finish(theirs);
    const committedAt = await finish(mine);
    const seen = await events;
    const lag = Date.now() - committedAt;
    expect(seen.map((e) => e.data.operationId)).not.toContain(theirs);
    expect(seen.filter((e) => e.data.operationId === mine).map((e) => e.data.status)).toEqual(['running', 'succeeded']);
    expect(lag).toBeLessThan(200);
    expect((await theirEvents).map((e) => e.data.operationId)).not.toContain(mine);
  });

  describe('pages', () => {
    const VMS = 57;
    beforeAll(async () => {
      // Two tenants' VMs, written as rows (the lists read rows; no workflow is needed to have them). Equal
      // memory and cpus on many, so the tie-breaker matters.
      for (const [tenant, prefix] of [
        [tenantId, 'page'],
        [otherTenantId, 'page'],
      ]) {
        await h.dataSource.query(
          `INSERT INTO vms (id, tenant_id, hostname, label, cpus, memory_mb, node_id, status, created_at)
           SELECT gen_random_uuid(), $1, $2 || '-' || lpad(i::text, 3, '0'), CASE WHEN i % 3 = 0 THEN 'third' END,
                  1 + i % 4, 512 * (1 + i % 3), $3, CASE WHEN i % 2 = 0 THEN 'running' ELSE 'stopped' END,
                  now() - make_interval(secs => (i % 7) * 0.000001 + i)
             FROM generate_series(1, $4) i`,
          [tenant, prefix, h.world.nodeIds[0], VMS],
        );
      }
    });

    const all = async (path: string, apiKey = key) => {
      const items: any[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: any = await h.call('GET', `${path}${path.includes('?') ? '&' : '?'}limit=10${cursor ? `&cursor=${cursor}` : ''}`, {
          key: apiKey,
        });
        expect(res.status).toBe(200);
        expect(res.body.total).toBeUndefined();
        items.push(...res.body.items);
        cursor = res.body.nextCursor;
        pages += 1;
      } while (cursor && pages < 100);
      return items;
    };

    it.each(['hostname', '-hostname', 'created', '-created', 'status', '-status', 'memory', '-memory', 'cpus', '-cpus'])(
      'VMs ordered by %s: the cursor walks every VM once, in the same order as offsets do',
      async (orderBy) => {
        const walked = await all(`/v1/vms?hostname=page-&orderBy=${orderBy}`);
        expect(walked).toHaveLength(VMS);
        expect(new Set(walked.map((v) => v.id)).size).toBe(VMS);
        const byOffset: any[] = [];
        for (let offset = 0; offset < VMS; offset += 25) {
          byOffset.push(
            ...(await h.call('GET', `/v1/vms?hostname=page-&orderBy=${orderBy}&limit=25&offset=${offset}`, { key })).body.items,
          );
        }
        expect(walked.map((v) => v.id)).toEqual(byOffset.map((v) => v.id));
        const field = orderBy.replace('-', '') as string;
        const value = (v: any) =>
          ({ hostname: v.hostname, created: v.createdAt, status: v.status, memory: v.memoryMb, cpus: v.cpus })[field];
        const sorted = [...walked].sort((a, b) => {
          const [x, y] = [value(a), value(b)];
          const c = x < y ? -1 : x > y ? 1 : a.hostname < b.hostname ? -1 : 1;
          return orderBy.startsWith('-') ? -c : c;
        });
        if (field !== 'created') expect(walked.map((v) => v.id)).toEqual(sorted.map((v) => v.id));
      },
    );

    it('filters hold across pages, the other tenant never shows, and total comes only when asked for', async () => {
      const third = await all('/v1/vms?label=third&orderBy=-memory');
      expect(third).toHaveLength(Math.floor(VMS / 3));
      expect(third.every((v) => v.label === 'third')).toBe(true);
      const theirs = await all('/v1/vms?hostname=page-', otherKey);
      const mine = await all('/v1/vms?hostname=page-');
      expect(theirs.filter((v) => mine.some((m) => m.id === v.id))).toEqual([]);
      const counted = await h.call('GET', '/v1/vms?hostname=page-&status=running&total=true&limit=5', { key });
      expect(counted.body).toMatchObject({ total: Math.floor(VMS / 2), limit: 5, offset: 0 });
      expect(counted.body.nextCursor).toEqual(expect.any(String));
      const last = await h.call('GET', '/v1/vms?hostname=page-&limit=500', { key });
      expect(last.body.nextCursor).toBeNull();
    });

    it('operations page newest first by cursor, with those asked for on behalf of the tenant, as offsets do', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 23; i++) {
        ids.push(await runningOperation(tenantId));
        if (i === 11) {
          // Another tenant's operation that this tenant asked for: it pages in its place among the tenant's own.
          const onBehalf = await runningOperation(otherTenantId);
          await h.dataSource.query(`UPDATE operations SET requested_by_tenant_id = $2 WHERE id = $1`, [onBehalf, tenantId]);
          ids.push(onBehalf);
        }
      }
      const othersOwn = await runningOperation(otherTenantId);
      const walked = await all('/v1/operations?status=running');
      const mine = walked.map((o) => o.id).filter((id) => ids.includes(id));
      expect(mine).toEqual([...ids].reverse());
      expect(walked.map((o) => o.id)).not.toContain(othersOwn);
      expect(new Set(walked.map((o) => o.id)).size).toBe(walked.length);
      expect(walked.every((o) => o.status === 'running')).toBe(true);
      const byOffset: any[] = [];
      for (let offset = 0; offset < walked.length + 7; offset += 7) {
        const res = await h.call('GET', `/v1/operations?status=running&limit=7&offset=${offset}`, { key });
        expect(res.status).toBe(200);
        byOffset.push(...res.body.items);
      }
      expect(byOffset).toEqual(walked);
      const counted = await h.call('GET', '/v1/operations?status=running&total=true&limit=1', { key });
      expect(counted.body.total).toBe(walked.length);
      await h.dataSource.query(`UPDATE operations SET status = 'succeeded', finished_at = now() WHERE id = ANY($1::uuid[])`, [
        [...ids, othersOwn],
      ]);
    });

    it('a cursor that is not a nextCursor, or of another order, or with an offset, is a 400 that says so', async () => {
      const first = await h.call('GET', '/v1/vms?hostname=page-&limit=5&orderBy=created', { key });
      const cursor = first.body.nextCursor as string;
      const bad = async (query: string) => {
        const res = await h.call('GET', query, { key });
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('VALIDATION_FAILED');
        return res.body.error.message as string;
      };
      expect(await bad(`/v1/vms?orderBy=hostname&cursor=${cursor}`)).toMatch(/another order/);
      expect(await bad(`/v1/vms?orderBy=created&cursor=${cursor}&offset=5`)).toMatch(/cursor or offset/);
      expect(await bad('/v1/vms?cursor=bm90LWpzb24')).toMatch(/nextCursor/);
      const forged = (parts: unknown) => Buffer.from(JSON.stringify(parts)).toString('base64url');
      await bad(`/v1/vms?orderBy=created&cursor=${forged(['created', '2026-02-31 10:00:00+00', 'x'])}`);
      await bad(`/v1/vms?orderBy=memory&cursor=${forged(['memory', '1; DROP TABLE vms', 'x'])}`);
      await bad(`/v1/operations?cursor=${forged(['newest', '2026-01-01 00:00:00+00', 'not-a-uuid'])}`);
      await bad('/v1/operations?cursor=a%20b');
    });
  });
});
