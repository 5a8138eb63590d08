import type { HypervisorDriver } from '../../libs/hypervisor/src';

type Method = keyof HypervisorDriver;

interface Fault {
  /** How many more calls fail; Infinity for a permanent fault. */
  remaining: number;
  error: () => Error;
}

/**
 * Wraps a driver and makes chosen methods slow, or fail: `times` calls in a row (a transient fault) or for good.
 * Every call, failing or not, is counted, so a test can assert what was attempted.
 */
export class FaultyDriver {
  readonly calls: Record<string, number> = {};
  private readonly faults = new Map<Method, Fault>();
  private readonly delays = new Map<Method, number>();
  readonly driver: HypervisorDriver;

  constructor(inner: HypervisorDriver) {
    this.driver = new Proxy(inner, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const method = prop as Method;
          this.calls[method] = (this.calls[method] ?? 0) + 1;
          const delay = this.delays.get(method);
          if (delay) await new Promise((r) => setTimeout(r, delay));
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

  /** Makes every call of `method` take `ms` longer, so a test can act while the step runs. */
  delay(method: Method, ms: number): void {
    this.delays.set(method, ms);
  }

  reset(): void {
    this.faults.clear();
    this.delays.clear();
    for (const key of Object.keys(this.calls)) delete this.calls[key];
  }
}
