import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { DRIVER_UNDO_ARG, endsStep, type StepFailureDetails, type StepProgress, type StepReport } from '@vmops/contracts';
import { DriverError } from '@vmops/driver';

/**
 * Reports progress of a long call as the activity's heartbeat details: a percentage (0–100), or that with the bytes
 * moved so far (a migration's copy). The API shows it on the operation's running step.
 */
export type ReportProgress = (progress: number | StepProgress) => void;

/**
 * Wraps an activity so that it reports the attempt it succeeded on (when not the first) and what it read, and so that its failure
 * carries the attempt count and the driver error's type. Whether that type is retried is the caller's retry
 * policy's decision when the policy names types (an inventory step's, a read's, and any driver call scheduled
 * before the runner stopped naming them): a failure marked non-retryable here would overrule it. A saga's driver
 * step comes with a policy that names none: then `decideRetry` (the agents set it) marks the failure non-retryable
 * when its type ends such a step (endsStep: a forward step's list, or an undo's when the call says it is one).
 *
 * When the activity has a heartbeat timeout (driver steps do), it heartbeats while it runs, so a dead agent is
 * noticed within that timeout instead of at the end of startToClose; the last progress reported rides along.
 */
export function step<A, R = void>(
  work: (args: A, progress: ReportProgress) => Promise<R>,
  options: { decideRetry?: boolean } = {},
): (args: A) => Promise<StepReport<R>> {
  return async (args: A) => {
    const ctx = Context.current();
    const { attempt, heartbeatTimeoutMs } = ctx.info;
    let last: number | StepProgress | undefined;
    const progress: ReportProgress = (p) => {
      last = p;
      ctx.heartbeat(p);
    };
    const beat = heartbeatTimeoutMs ? setInterval(() => ctx.heartbeat(last), Math.max(200, heartbeatTimeoutMs / 4)) : null;
    try {
      const result = await work(args, progress);
      const report: StepReport<R> = attempt > 1 ? { attempt } : {};
      if (result !== undefined) report.result = result;
      return report;
    } catch (err) {
      const failure = toFailure(err, attempt);
      throw options.decideRetry ? decideRetry(failure, args, ctx.info.retryPolicy?.nonRetryableErrorTypes) : failure;
    } finally {
      if (beat) clearInterval(beat);
    }
  };
}

function toFailure(err: unknown, attempt: number): ApplicationFailure {
  const details: StepFailureDetails[] = [{ attempt }];
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof DriverError) {
    return ApplicationFailure.create({ type: err.name, message: err.message, nonRetryable: false, details, cause: err });
  }
  const error = err instanceof Error ? err : new Error(String(err));
  return ApplicationFailure.create({ type: error.name, message: error.message, nonRetryable: false, details, cause: error });
}

/**
 * A saga's driver step decides here whether its failure ends it: only when the retry policy it was scheduled with
 * names no failure type (one that names some decides by them, as Temporal does). Undos say so in their arguments.
 */
export function decideRetry(failure: ApplicationFailure, args: unknown, namedByPolicy?: readonly string[] | null): ApplicationFailure {
  if (failure.nonRetryable || namedByPolicy?.length || !failure.type) return failure;
  const asUndo = (args as Record<string, unknown> | null)?.[DRIVER_UNDO_ARG] === true;
  if (!endsStep(failure.type, asUndo)) return failure;
  return ApplicationFailure.create({
    type: failure.type,
    message: failure.message,
    nonRetryable: true,
    details: failure.details ?? undefined,
    cause: failure.cause,
  });
}
