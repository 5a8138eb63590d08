export * from './data-source';
export * from './entities';
export * from './migrations';
export * from './seed';
export * from './operation-ledger';
export * from './node-capacity';
export * from './migration-admission';
export * from './notifications';
