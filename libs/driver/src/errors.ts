/**
 * Typed driver errors. Their names are the failure types the workflows see; which of them ends a step is decided
 * by two lists (NON_RETRYABLE_ERROR_TYPES for forward steps, UNDO_NON_RETRYABLE_ERROR_TYPES for undos), applied by
 * the agent (endsStep). DriverUnavailableError and anything untyped are passing faults.
 */
export abstract class DriverError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class DriverNotFoundError extends DriverError {}

/** The object exists but is in a state that forbids the call (e.g. deleting an attached disk). */
export class DriverInvalidStateError extends DriverError {}

export class DriverCapacityError extends DriverError {}

/** The hypervisor could not be reached or answered with a passing fault: try again. */
export class DriverUnavailableError extends DriverError {}
