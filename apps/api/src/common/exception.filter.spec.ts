import type { ArgumentsHost } from '@nestjs/common';
import { ApiError } from './api-error';
import type { DatabaseNotificationsService } from '../events/database-notifications.service';
import { ApiExceptionFilter } from './exception.filter';

/** What the filter answers for an exception: status, headers and the JSON error; `database` says whether it answers. */
async function answer(exception: unknown, database?: { answers(withinMs: number): Promise<boolean> }) {
  const sent = { status: 0, headers: {} as Record<string, string>, body: null as unknown as { error: { code: string; message: string } } };
  // The part of Fastify's reply the filter uses.
  const res = {
    header: (name: string, value: string) => ((sent.headers[name.toLowerCase()] = value), res),
    status: (status: number) => ((sent.status = status), res),
    send: (body: typeof sent.body) => ((sent.body = body), res),
  };
  const host = { switchToHttp: () => ({ getResponse: () => res, getRequest: () => ({ method: 'GET', url: '/v1/vms' }) }) };
  const filter = new ApiExceptionFilter(database as DatabaseNotificationsService | undefined);
  (filter as unknown as { logger: { warn(): void; error(): void } }).logger = { warn: () => undefined, error: () => undefined };
  await filter.catch(exception, host as unknown as ArgumentsHost);
  return sent;
}

describe('ApiExceptionFilter: what is unavailable', () => {
  it("tells a request that waited in vain for a pool's connection whether the database answers: API_BUSY, or DATABASE_UNAVAILABLE", async () => {
    const poolWait = () => new Error('timeout exceeded when trying to connect');
    const asked: number[] = [];
    const busy = await answer(poolWait(), { answers: async (ms) => (asked.push(ms), true) });
    expect(asked).toEqual([1000]);
    expect([busy.status, busy.headers['retry-after']]).toEqual([503, '2']);
    expect(busy.body.error).toMatchObject({
      code: 'API_BUSY',
      message: expect.stringMatching(/^no database connection came free in time, while the database answers/),
    });

    for (const database of [{ answers: async () => false }, { answers: () => Promise.reject(new Error('probe failed')) }, undefined]) {
      const stalled = await answer(poolWait(), database);
      expect([stalled.status, stalled.headers['retry-after']]).toEqual([503, '2']);
      expect(stalled.body.error).toMatchObject({
        code: 'DATABASE_UNAVAILABLE',
        message: expect.stringMatching(/^no database connection came free in time, and the database does not answer/),
      });
    }

    const down = await answer(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), {
      answers: async () => true,
    });
    expect([down.status, down.headers['retry-after']]).toEqual([503, '2']);
    expect(down.body.error).toMatchObject({
      code: 'DATABASE_UNAVAILABLE',
      message: expect.stringMatching(/^the database did not answer in time/),
    });
  });

  it('says when to try again on a 503 only', async () => {
    const unavailable = await answer(new ApiError('TEMPORAL_UNAVAILABLE', 'the workflow service is unavailable'));
    expect([unavailable.status, unavailable.headers['retry-after']]).toEqual([503, '2']);
    const busy = await answer(new ApiError('VM_BUSY', 'the VM runs another operation', { operationId: 'op-1' }));
    expect(busy.status).toBe(409);
    expect(busy.headers['retry-after']).toBeUndefined();
  });
});
