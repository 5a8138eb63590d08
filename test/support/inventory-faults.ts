import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/**
 * Fails chosen inventory activities of the harness's worker for good (the driver's faults live in the
 * simulator; the inventory has no such switch in production, so the test worker gets an interceptor).
 */
export class InventoryFaults {
  private readonly faults = new Map<string, { skip: number; seen: number; fired: boolean; transient: boolean; lands: boolean }>();

  /**
   * The (skip + 1)-th call of `activity` from now fails, once: for good, or (`transient`) so that it is retried;
   * with `lands`, after its write has committed (its reply lost), so the retry meets the changed rows.
   */
  fail(activity: string, skip = 0, transient = false, lands = false): void {
    this.faults.set(activity, { skip, seen: 0, fired: false, transient, lands });
  }

  /** How many faults have fired. */
  get fired(): number {
    return [...this.faults.values()].filter((f) => f.fired).length;
  }

  reset(): void {
    this.faults.clear();
  }

  readonly interceptor: ActivityInterceptorsFactory = (ctx) => ({
    inbound: {
      execute: async (input, next) => {
        const fault = this.faults.get(ctx.info.activityType);
        if (fault && !fault.fired && fault.seen++ === fault.skip) {
          fault.fired = true;
          if (fault.lands) await next(input);
          if (fault.transient)
            throw ApplicationFailure.retryable(`injected: inventory step ${ctx.info.activityType} fails for now`, 'InjectedInventoryFault');
          throw ApplicationFailure.nonRetryable(
            `injected: inventory step ${ctx.info.activityType} fails for good`,
            'InjectedInventoryFault',
          );
        }
        return next(input);
      },
    },
  });
}
