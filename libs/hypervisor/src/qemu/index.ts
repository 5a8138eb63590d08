export * from './qemu-driver';
export * from './qmp-client';
