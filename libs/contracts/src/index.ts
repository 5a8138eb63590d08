export * from './activities';
export * from './operations';
export * from './search-attributes';
export * from './temporal';
export * from './workflows';
export * from './errors';
