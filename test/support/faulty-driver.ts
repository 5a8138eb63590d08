import type { HypervisorDriver } from '../../libs/hypervisor/src';

type Method = keyof HypervisorDriver;

interface Fault {
  /** How many more calls fail; Infinity for a permanent fault. */
  remaining: number;
  error: () => Error;
}

/**
 * Wraps a driver and makes chosen methods fail: `times` calls in a row (a transient fault) or for good.
 * Every call, failing or not, is counted, so a test can assert what was attempted.
 */
export class FaultyDriver {
  readonly calls: Record<string, number> = {};
  private readonly faults = new Map<Method, Fault>();
  readonly driver: HypervisorDriver;

  constructor(inner: HypervisorDriver) {
    this.driver = new Proxy(inner, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const method = prop as Method;
          this.calls[method] = (this.calls[method] ?? 0) + 1;
          const fault = this.faults.get(method);
          if (fault && fault.remaining > 0) {
            fault.remaining -= 1;
            throw fault.error();
          }
          return value.apply(target, args);
        };
      },
    });
  }

  fail(method: Method, error: () => Error, times = Infinity): void {
    this.faults.set(method, { remaining: times, error });
  }

  reset(): void {
    this.faults.clear();
    for (const key of Object.keys(this.calls)) delete this.calls[key];
  }
}
