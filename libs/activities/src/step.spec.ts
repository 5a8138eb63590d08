import { ApplicationFailure } from '@temporalio/common';
import { decideRetry } from './step';

describe('decideRetry: which failures end a saga driver step whose policy names no type', () => {
  const failure = (type: string) =>
    ApplicationFailure.create({ type, message: `the driver said ${type}`, nonRetryable: false, details: [{ attempt: 2 }] });

  it('a forward step ends on the forward list: invalid state, no capacity, a guest that did not stop, not found', () => {
    for (const type of ['DriverInvalidStateError', 'DriverCapacityError', 'GuestDidNotStop', 'DriverNotFoundError', 'MisroutedStep']) {
      const decided = decideRetry(failure(type), { vmId: 'v' });
      expect(decided.nonRetryable).toBe(true);
      // What the workflow reads of it is kept: the type (the operation's error code), the message, the attempt.
      expect(decided).toMatchObject({ type, message: `the driver said ${type}`, details: [{ attempt: 2 }] });
    }
  });

  it('an undo is retried through what stops a forward step, and ends only on its own list', () => {
    for (const type of ['DriverInvalidStateError', 'DriverCapacityError', 'GuestDidNotStop']) {
      expect(decideRetry(failure(type), { vmId: 'v', undo: true }).nonRetryable).toBe(false);
    }
    for (const type of ['DriverNotFoundError', 'MisroutedStep']) {
      expect(decideRetry(failure(type), { vmId: 'v', undo: true }).nonRetryable).toBe(true);
    }
  });

  it('a passing fault is retried either way', () => {
    for (const args of [{ vmId: 'v' }, { vmId: 'v', undo: true }]) {
      expect(decideRetry(failure('DriverUnavailableError'), args).nonRetryable).toBe(false);
      expect(decideRetry(failure('Error'), args).nonRetryable).toBe(false);
    }
  });

  it('a policy that names types decides by them (a read, a call scheduled before): the failure is left as it is', () => {
    const f = failure('DriverCapacityError');
    expect(decideRetry(f, { vmId: 'v' }, ['DriverNotFoundError'])).toBe(f);
    expect(f.nonRetryable).toBe(false);
  });

  it('only `undo: true` makes a call an undo', () => {
    expect(decideRetry(failure('DriverInvalidStateError'), { vmId: 'v', undo: 'yes' }).nonRetryable).toBe(true);
    expect(decideRetry(failure('DriverInvalidStateError'), null).nonRetryable).toBe(true);
  });
});
