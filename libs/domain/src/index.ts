export * from './api-key';
export * from './hostname';
export * from './placement';
export * from './vm-status';
export * from './audit-diff';
export * from './migration';
export * from './anti-affinity';
