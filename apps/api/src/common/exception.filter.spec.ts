import type { ArgumentsHost } from '@nestjs/common';
import { ApiError } from './api-error';
import { ApiExceptionFilter } from './exception.filter';

/** What the filter answers for an exception: status, headers and the JSON error. */
function answer(exception: unknown) {
  const sent = { status: 0, headers: {} as Record<string, string>, body: null as unknown as { error: { code: string; message: string } } };
  const res = {
    setHeader: (name: string, value: string) => (sent.headers[name.toLowerCase()] = value),
    status: (status: number) => ((sent.status = status), res),
    json: (body: typeof sent.body) => (sent.body = body),
  };
  const host = { switchToHttp: () => ({ getResponse: () => res, getRequest: () => ({ method: 'GET', path: '/v1/vms' }) }) };
  const filter = new ApiExceptionFilter();
  (filter as unknown as { logger: { warn(): void; error(): void } }).logger = { warn: () => undefined, error: () => undefined };
  filter.catch(exception, host as unknown as ArgumentsHost);
  return sent;
}

describe('ApiExceptionFilter: what is unavailable', () => {
  it("tells a request that waited for a busy pool's connection from a database that does not answer; both are 503 with Retry-After", () => {
    const busy = answer(new Error('timeout exceeded when trying to connect'));
    expect(busy.status).toBe(503);
    expect(busy.headers['retry-after']).toBe('2');
    expect(busy.body.error).toMatchObject({
      code: 'DATABASE_UNAVAILABLE',
      message: expect.stringMatching(/^no database connection came free in time/),
    });

    const down = answer(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBe('2');
    expect(down.body.error).toMatchObject({
      code: 'DATABASE_UNAVAILABLE',
      message: expect.stringMatching(/^the database did not answer in time/),
    });
  });

  it('says when to try again on a 503 only', () => {
    const unavailable = answer(new ApiError('TEMPORAL_UNAVAILABLE', 'the workflow service is unavailable'));
    expect([unavailable.status, unavailable.headers['retry-after']]).toEqual([503, '2']);
    const busy = answer(new ApiError('VM_BUSY', 'the VM runs another operation', { operationId: 'op-1' }));
    expect(busy.status).toBe(409);
    expect(busy.headers['retry-after']).toBeUndefined();
  });
});
