/**
 * Typed driver errors. Activities turn the permanent ones into non-retryable failures and let
 * DriverUnavailableError (and anything untyped) retry with backoff.
 */
export abstract class DriverError extends Error {
  abstract readonly retryable: boolean;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class DriverNotFoundError extends DriverError {
  readonly retryable = false;
}

/** The object exists but is in a state that forbids the call (e.g. deleting an attached disk). */
export class DriverInvalidStateError extends DriverError {
  readonly retryable = false;
}

export class DriverCapacityError extends DriverError {
  readonly retryable = false;
}

/** The hypervisor could not be reached or answered with a passing fault: try again. */
export class DriverUnavailableError extends DriverError {
  readonly retryable = true;
}
