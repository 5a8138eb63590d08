import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { StepFailureDetails, StepReport } from '@vmops/contracts';
import { DriverError } from '@vmops/hypervisor';

/**
 * Wraps an activity so that it reports the attempt it succeeded on, and so that its failure carries the
 * attempt count and says whether retrying can help: a permanent driver error is non-retryable, a passing
 * fault or an unknown error is retried by the activity's retry policy.
 */
export function step<A>(work: (args: A) => Promise<unknown>): (args: A) => Promise<StepReport> {
  return async (args: A) => {
    const { attempt } = Context.current().info;
    try {
      await work(args);
      return { attempt };
    } catch (err) {
      throw toFailure(err, attempt);
    }
  };
}

function toFailure(err: unknown, attempt: number): ApplicationFailure {
  const details: StepFailureDetails[] = [{ attempt }];
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof DriverError) {
    return ApplicationFailure.create({ type: err.name, message: err.message, nonRetryable: !err.retryable, details, cause: err });
  }
  const error = err instanceof Error ? err : new Error(String(err));
  return ApplicationFailure.create({ type: error.name, message: error.message, nonRetryable: false, details, cause: error });
}
