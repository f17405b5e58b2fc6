/**
 * The order writes, one file per verb, met here by the rest of the API: place (with its gate
 * step and its idempotency answers), pay, cancel, expire.
 */
export { cancelOrder } from './cancel-order.ts';
export { expireDueOrders } from './expire-orders.ts';
export { fingerprintOf, IDEMPOTENCY_TTL_SECONDS } from './idempotency.ts';
export { payOrder } from './pay-order.ts';
export { placeOrder, type PlaceOrderResult } from './place-order.ts';
