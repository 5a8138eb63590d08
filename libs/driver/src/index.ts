// The hypervisor driver contract: the interface every driver implements, its types, its method list and its typed
// errors. Workflow-safe (no Node, no I/O): contracts and domain build on it; the implementations live in
// libs/hypervisor (the simulator, QEMU).
export * from './driver';
export * from './errors';
