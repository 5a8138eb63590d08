import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/**
 * Fails chosen inventory activities of the harness's worker for good (the driver's faults live in the
 * simulator; the inventory has no such switch in production, so the test worker gets an interceptor).
 */
export class InventoryFaults {
  private readonly faults = new Map<string, { skip: number; seen: number; fired: boolean; transient: boolean }>();

  /** The (skip + 1)-th call of `activity` from now fails, once: for good, or (`transient`) so that it is retried. */
  fail(activity: string, skip = 0, transient = false): void {
    this.faults.set(activity, { skip, seen: 0, fired: false, transient });
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
      execute: (input, next) => {
        const fault = this.faults.get(ctx.info.activityType);
        if (fault && !fault.fired && fault.seen++ === fault.skip) {
          fault.fired = true;
          if (fault.transient) throw ApplicationFailure.retryable(`injected: inventory step ${ctx.info.activityType} fails for now`, 'InjectedInventoryFault');
          throw ApplicationFailure.nonRetryable(`injected: inventory step ${ctx.info.activityType} fails for good`, 'InjectedInventoryFault');
        }
        return next(input);
      },
    },
  });
}
