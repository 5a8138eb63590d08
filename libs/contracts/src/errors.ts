/**
 * The error catalogue: every code the API answers with, its HTTP status and what it means (what to fix). Every error
 * the API builds takes its code from here (`ApiError` accepts only these), the README's table is generated from it
 * (`npm run docs:errors`, checked by a unit test) and the OpenAPI document describes each endpoint's errors with it.
 * One code per condition: a new condition gets a new entry, never a second code for an old one.
 *
 * Plain data: the API, the typed client and the CLI read the same list.
 */
import { OPERATION_STATUS_MEANINGS, STEP_STATUS_MEANINGS } from './operations';

export const API_ERRORS = {
  VALIDATION_FAILED: {
    status: 400,
    meaning:
      'A field, query parameter or header is missing, unknown, of the wrong type ("2" is not a number) or out of range; `details.fields` names each field and its problems. Nothing was changed.',
  },
  BAD_REQUEST: {
    status: 400,
    meaning: 'The request body could not be read: it is not valid JSON, or it is shorter or longer than its Content-Length.',
  },
  UNAUTHENTICATED: { status: 401, meaning: 'No API key, or one that is unknown or revoked: send `Authorization: Bearer <key>`.' },
  ADMIN_REQUIRED: { status: 403, meaning: 'The endpoint (or the option used) is for platform operators: it needs an admin API key.' },
  NOT_FOUND: {
    status: 404,
    meaning: "No such resource for your tenant (another tenant's resources answer the same), or no such route. `details` names the id.",
  },
  METHOD_NOT_ALLOWED: {
    status: 405,
    meaning: 'The path exists but does not take this method; the `Allow` header lists the methods it takes.',
  },
  VM_BUSY: {
    status: 409,
    meaning: 'Another operation holds the VM; `details.operationId` names it: wait for it (`GET /v1/operations/{id}/wait`) or cancel it.',
  },
  HOSTNAME_TAKEN: {
    status: 409,
    meaning: 'You already have a VM with this hostname (hostnames are unique per tenant, case-insensitively, as DNS names are).',
  },
  NAME_TAKEN: {
    status: 409,
    meaning:
      'The name is already used where it must be unique: a snapshot or snapshot definition of the disk, a template, an anti-affinity group, a node. `details.name` repeats it.',
  },
  OPERATION_EXISTS: { status: 409, meaning: 'An operation with this workflow id is already running.' },
  OPERATION_FINISHED: { status: 409, meaning: 'The operation has already ended; there is nothing to cancel.' },
  PAST_POINT_OF_NO_RETURN: {
    status: 409,
    meaning:
      'The operation has passed its point of no return (`details.step`, a commit step): it can no longer be cancelled and will run to its end.',
  },
  NOT_WAITING_FOR_FINALIZE: { status: 409, meaning: 'The operation is not a two-phase migration waiting at its finalize point.' },
  VM_NOT_STUCK: { status: 409, meaning: 'The VM is not stuck: an admin reset is only for a VM an operation left stuck.' },
  VM_NOT_ON_NODE: {
    status: 409,
    meaning: 'The node does not hold the VM the inventory places on it: an operator should look at it (admin reset).',
  },
  NODE_BUSY: { status: 409, meaning: 'The node is being drained by another operation (`details.operationId`): wait for it or cancel it.' },
  MIGRATION_REFUSED: {
    status: 409,
    meaning: 'The VM cannot migrate there; the message lists every reason (`GET /v1/vms/{id}/migration-check` too).',
  },
  TEMPLATE_IN_USE: {
    status: 409,
    meaning: 'VMs are built from the template (`details` names them): it cannot be deleted while they exist.',
  },
  TEMPLATE_BUSY: { status: 409, meaning: 'The template is being captured or deleted (`details.status`).' },
  ANTI_AFFINITY: {
    status: 409,
    meaning: 'The placement would put two VMs of one anti-affinity group on one node (`details.group` names it).',
  },
  POSITION_TAKEN: { status: 409, meaning: 'The VM already has a disk or an interface at this position.' },
  DISK_ATTACHED: { status: 409, meaning: 'The disk is attached (to one VM at a time): detach it first.' },
  DISK_DETACHED: { status: 409, meaning: 'The disk is not attached: there is nothing to detach.' },
  INTERFACE_ATTACHED: { status: 409, meaning: 'The interface is attached (to one VM at a time): detach it first.' },
  INTERFACE_DETACHED: { status: 409, meaning: 'The interface is not attached: there is nothing to detach.' },
  INVALID_PARAMETER: {
    status: 412,
    meaning:
      'A value refers to something that does not exist or cannot be used here (a template, node or disk id, a name); `details.field` names the field.',
  },
  PAYLOAD_TOO_LARGE: { status: 413, meaning: 'The request body is over 256 kB.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'Send JSON in UTF-8 (`Content-Type: application/json`), uncompressed.' },
  INSUFFICIENT_CAPACITY: {
    status: 417,
    meaning: 'No node (or not the one asked for) has the vCPUs, memory or storage free; `details` says how much is free.',
  },
  ADDRESS_POOL_EXHAUSTED: { status: 417, meaning: "The network's address pool has no address left." },
  SNAPSHOT_LIMIT_REACHED: { status: 417, meaning: 'The VM has as many snapshots as a VM may have: delete some first.' },
  DISK_LIMIT_REACHED: { status: 417, meaning: 'The VM has a disk at every position.' },
  INTERFACE_LIMIT_REACHED: { status: 417, meaning: 'The VM has an interface at every position.' },
  SNAPSHOT_NOT_OK: { status: 417, meaning: 'The snapshot is not usable (still being taken, deleting or failed: `details.status`).' },
  NEWER_SNAPSHOTS: { status: 417, meaning: 'An in-place rollback destroys the newer snapshots it names: pass `force: true` to allow it.' },
  TARGET_HAS_SNAPSHOTS: {
    status: 417,
    meaning: 'Restoring into the target disk destroys the snapshots it names: pass `force: true` to allow it.',
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    meaning: 'This Idempotency-Key was used for a different request (`details.operationId`): use a new key.',
  },
  VM_INVALID_STATE: {
    status: 423,
    meaning:
      'The VM is not in a status the action needs (`details.status`; `details.required` when one would do): stop or start it first, or use the option the message names (`stopFirst`, `fsfreeze`, `apply`).',
  },
  VM_FROZEN: { status: 423, meaning: 'The VM is frozen: unfreeze it first.' },
  VM_NOT_FROZEN: { status: 423, meaning: 'The VM is not frozen: there is nothing to unfreeze.' },
  VM_STUCK: {
    status: 423,
    meaning:
      'An operation could not undo its steps and left the VM stuck (`details.operationId`): it takes an admin reset after a human looked at the node.',
  },
  SYSTEM_DISK: { status: 423, meaning: "The disk is a VM's system disk: detach it first (with the VM stopped)." },
  NODE_NOT_OPERATIONAL: {
    status: 423,
    meaning: 'The node is not online (draining, maintenance or offline): choose another node or leave nodeId out.',
  },
  NODE_REFUSED: { status: 423, meaning: "The node's hypervisor refused the read (the message says why)." },
  TEMPLATE_NOT_READY: { status: 423, meaning: 'The template is not ready yet (being captured) or is failing.' },
  DEFINITION_INACTIVE: { status: 423, meaning: 'The snapshot definition is inactive: activate it first.' },
  NODE_MISMATCH: { status: 428, meaning: 'The disk, interface or target VM is on another node than the VM: they must share a node.' },
  DISK_SIZE_MISMATCH: {
    status: 428,
    meaning: 'The disks differ in size where they must match (a restore target, a rebuild from a larger template).',
  },
  DISK_KIND_MISMATCH: { status: 428, meaning: 'A system disk can only be restored into a system disk, a data disk into a data disk.' },
  INTERNAL_ERROR: {
    status: 500,
    meaning: 'The server failed to handle the request; it has been logged. Nothing of a mutation was done unless it answered 202.',
  },
  NODE_READ_FAILED: { status: 502, meaning: "The node's agent answered, but could not read what was asked." },
  TEMPORAL_UNAVAILABLE: {
    status: 503,
    meaning:
      'The workflow service did not answer: nothing was changed; try again (with the same Idempotency-Key, a mutation is not done twice).',
  },
  DATABASE_UNAVAILABLE: {
    status: 503,
    meaning: 'The database did not answer in time: try again (with the same Idempotency-Key, a mutation is not done twice).',
  },
  API_BUSY: {
    status: 503,
    meaning:
      "None of the API's connections to the database came free in time, while the database answers: the API is busy with other requests (a burst). Try again (with the same Idempotency-Key, a mutation is not done twice).",
  },
  NODE_AGENT_UNAVAILABLE: { status: 503, meaning: "The node's agent did not answer: is it running?" },
  UNHEALTHY: { status: 503, meaning: '`GET /health`: a dependency (database, workflow service) is not answering; `details` says which.' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type ApiErrorCode = keyof typeof API_ERRORS;

/**
 * The codes of a finished operation's `error` (and of a step's `error`): why it failed, was compensated, cancelled or
 * is stuck. A step's failure carries the type of the error its activity ended with: the driver's typed errors and the
 * inventory's below, or, for an error nobody typed, its class name.
 */
export const OPERATION_ERRORS = {
  CANCELLED: 'Cancelled on request; the steps already done were undone (the status is `cancelled`).',
  FAILED_AFTER_COMMIT: 'A step failed after the point of no return: nothing was undone; the VM is left `stuck` for an admin reset.',
  COMPENSATION_FAILED: 'A step failed and then an undo failed too (`step` names the undo): the VM is left `stuck` for an admin reset.',
  NEVER_STARTED: 'The operation was recorded but its workflow never started (the API stopped in between): nothing was changed.',
  WORKFLOW_ENDED: "The workflow ended (terminated, timed out) before the operation finished: the VM's recorded state may be stale.",
  TEMPORAL_UNAVAILABLE: 'The workflow could not be started: nothing was changed.',
  LAUNCH_ABANDONED: 'An operation a schedule or a drain was launching was settled before its workflow started.',
  VMS_NOT_MOVED: 'A drain ended with VMs still on the node (the message counts them; each has its own migration operation).',
  DriverNotFoundError: 'The hypervisor has no such VM, disk, snapshot, interface or migration.',
  DriverInvalidStateError: 'The hypervisor refused the call in the state the resource is in (e.g. a running VM for an offline change).',
  DriverCapacityError: 'The node has not the memory, vCPUs or storage the step needs.',
  DriverUnavailableError: "The node's hypervisor did not answer or failed (retried with backoff before the step failed).",
  InventoryConflictError: "The inventory's record did not allow the step (e.g. the VM was gone or in another status).",
  STEP_FAILED: 'A step failed with an error that carried no type.',
} as const;

export type OperationErrorCode = keyof typeof OPERATION_ERRORS;

/** The README's tables of both catalogues and of the statuses, as markdown (written by `npm run docs:errors`, checked by a unit test). */
export function errorCatalogueMarkdown(): string {
  const api = Object.entries(API_ERRORS)
    .map(([code, e]) => `| ${e.status} | \`${code}\` | ${e.meaning.replace(/\|/g, '\\|')} |`)
    .join('\n');
  const operation = Object.entries(OPERATION_ERRORS)
    .map(([code, meaning]) => `| \`${code}\` | ${meaning.replace(/\|/g, '\\|')} |`)
    .join('\n');
  const statuses = (meanings: Record<string, string>) =>
    Object.entries(meanings)
      .map(([status, meaning]) => `| \`${status}\` | ${meaning.replace(/\|/g, '\\|')} |`)
      .join('\n');
  return [
    '| status | code | meaning |',
    '| --- | --- | --- |',
    api,
    '',
    "An operation's `error.code` (and a step's) when it did not succeed:",
    '',
    '| code | meaning |',
    '| --- | --- |',
    operation,
    '',
    "An operation's `status`:",
    '',
    '| status | meaning |',
    '| --- | --- |',
    statuses(OPERATION_STATUS_MEANINGS),
    '',
    "A step's `status` (in an operation's `steps`):",
    '',
    '| status | meaning |',
    '| --- | --- |',
    statuses(STEP_STATUS_MEANINGS),
  ].join('\n');
}
