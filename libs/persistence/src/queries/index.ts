// The typed query layer: every statement the API and the worker's activities share (locks, reservations, the
// operation ledger, node usage, admissions), each a function over the caller's transaction.
export * from './anti-affinity';
export * from './migration-admission';
export * from './node-usage';
export * from './operations';
export * from './snapshot-schedules';
export * from './vm-lock';
export * from './disks';
export * from './api-keys';
export * from './vms';
