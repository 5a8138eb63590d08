export * from './driver';
export * from './errors';
export * from './simulated/sim-store';
export * from './simulated/simulated-hypervisor';
export * from './simulated/simulator-control';
export * from './qemu';
