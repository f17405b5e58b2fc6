export * from './common.ts';
export * from './errors.ts';
export * from './auth.ts';
export * from './products.ts';
export * from './orders.ts';
export * from './ops.ts';
export * from './live.ts';
export * from './queue.ts';
