export * from './data-source';
export * from './entities';
export * from './migrations';
export * from './seed';
export * from './notifications';
export * from './pg-types';
export * from './rows';
export * from './queries';
