export * from './driver';
export * from './errors';
export * from './simulated/simulated-hypervisor';
