import { InsufficientStockDetails, ValidationDetails } from '@stampede/contract';
import { toApiError, type ApiError, type ApiErrorCode } from '@/api/api-error';

/** Something the shopper can do about it, offered as a button next to the message. */
export type CheckoutFix =
  | { kind: 'set_quantity'; productId: number; quantity: number; label: string }
  | { kind: 'remove'; productId: number; label: string }
  | { kind: 'sign_in'; label: string }
  /** A link to the product's waiting room (`paths.queue`). */
  | { kind: 'queue'; productId: number; label: string };

/** The fixes the cart applies itself; the others are links. */
export type CartFix = Exclude<CheckoutFix, { kind: 'sign_in' } | { kind: 'queue' }>;

export type CheckoutErrorView = {
  code: ApiErrorCode;
  tone: 'destructive' | 'warning';
  title: string;
  message: string;
  /**
   * How the same cart may be sent again: at once (`now`), after `retryAfterSeconds` (`wait`), or
   * only after the shopper changes something (`none`).
   */
  retry: 'now' | 'wait' | 'none';
  retryAfterSeconds: number | null;
  /**
   * Whether the attempt stays open, i.e. a retry must reuse the Idempotency-Key. True exactly when
   * the order may exist (no answer, a 5xx) or the server said "still working" or "nothing happened,
   * try again"; a definitive refusal closes the attempt so the next press is a new one.
   */
  keepKey: boolean;
  fix: CheckoutFix | null;
  requestId: string | null;
};

type Names = (productId: number) => string | undefined;

function productIdOf(error: ApiError): number | null {
  const id = error.details.product_id;
  return typeof id === 'number' && Number.isInteger(id) ? id : null;
}

function numberOf(error: ApiError, ...keys: string[]): number | null {
  for (const key of keys) {
    const value = error.details[key];
    if (typeof value === 'number' && Number.isFinite(value)) return value;
  }
  return null;
}

const seconds = (count: number) => `${count} second${count === 1 ? '' : 's'}`;

/** Turns any checkout failure into words and a next step. Every API error code has its case. */
export function describeCheckoutError(
  error: unknown,
  names: Names = () => undefined,
): CheckoutErrorView {
  const apiError = toApiError(error);
  const productId = productIdOf(apiError);
  const name = (productId !== null && names(productId)) || 'This product';
  const base = {
    code: apiError.code,
    retryAfterSeconds: null,
    fix: null,
    requestId: apiError.requestId,
  } satisfies Partial<CheckoutErrorView>;

  switch (apiError.code) {
    case 'insufficient_stock': {
      const details = InsufficientStockDetails.safeParse(apiError.details);
      const available = details.success ? details.data.available : null;
      const id = details.success ? details.data.product_id : productId;
      const product = (id !== null && names(id)) || 'This product';
      if (available !== null && available > 0 && id !== null) {
        return {
          ...base,
          tone: 'warning',
          title: `Only ${available} left`,
          message: `${product} has only ${available} left and you asked for ${details.success ? details.data.requested : 'more'}. Lower the quantity to get them.`,
          retry: 'none',
          keepKey: false,
          fix: {
            kind: 'set_quantity',
            productId: id,
            quantity: available,
            label: `Take the ${available} left`,
          },
        };
      }
      return {
        ...base,
        tone: 'destructive',
        title: 'Sold out',
        message: `${product} sold out before your order reached us. Nothing was charged.`,
        retry: 'none',
        keepKey: false,
        fix: removeFix(id),
      };
    }
    case 'purchase_limit_exceeded': {
      const limit = numberOf(apiError, 'max_per_user', 'limit');
      return {
        ...base,
        tone: 'warning',
        title: 'Purchase limit reached',
        message: limit
          ? `${name} is limited to ${limit} per customer, counting your open and paid orders. Lower the quantity or remove it.`
          : `${name} has a per-customer limit, and this order would pass it (your open and paid orders count too).`,
        retry: 'none',
        keepKey: false,
        fix: removeFix(productId),
      };
    }
    case 'sale_not_started':
      return {
        ...base,
        tone: 'warning',
        title: 'The sale has not started yet',
        message: `${name} is not on sale yet. Wait for the countdown to reach zero, then place the order again.`,
        retry: 'none',
        keepKey: false,
      };
    case 'sale_ended':
      return {
        ...base,
        tone: 'destructive',
        title: 'The sale has ended',
        message: `The sale of ${name === 'This product' ? 'this product' : name} is over. Remove it to check out the rest of your cart.`,
        retry: 'none',
        keepKey: false,
        fix: removeFix(productId),
      };
    case 'product_not_found':
      return {
        ...base,
        tone: 'destructive',
        title: 'A product is no longer available',
        message: `${name === 'This product' ? 'A product in your cart' : name} is no longer on sale. Remove it and try again.`,
        retry: 'none',
        keepKey: false,
        fix: removeFix(productId),
      };
    case 'rate_limited': {
      const wait = apiError.retryAfterSeconds ?? 1;
      return {
        ...base,
        tone: 'warning',
        title: 'One moment, please',
        message: `Orders are limited to one attempt at a time per customer. You can try again in ${seconds(wait)}.`,
        retry: 'wait',
        retryAfterSeconds: wait,
        keepKey: true,
      };
    }
    case 'stock_conflict':
      return {
        ...base,
        tone: 'warning',
        title: 'So many buyers at once',
        message:
          'We could not confirm your order because this sale is very busy. No order was placed. Try again: it is safe.',
        retry: 'now',
        keepKey: true,
      };
    case 'idempotency_in_flight':
      return {
        ...base,
        tone: 'warning',
        title: 'Your order is still being placed',
        message:
          'We are still working on your previous press of "Place order". Check again in a moment: it will not be placed twice.',
        retry: 'wait',
        retryAfterSeconds: apiError.retryAfterSeconds ?? 1,
        keepKey: true,
      };
    case 'idempotency_key_reused':
      return {
        ...base,
        tone: 'warning',
        title: 'Your cart changed',
        message:
          'Your cart changed while an order was being placed. Check it and place the order again.',
        retry: 'now',
        keepKey: false,
      };
    case 'stock_unavailable':
    case 'service_unavailable': {
      const wait = apiError.retryAfterSeconds ?? 2;
      return {
        ...base,
        tone: 'warning',
        title: 'Checkout is briefly unavailable',
        message: `Our stock service is not answering right now, so no order was placed. Try again in ${seconds(wait)}.`,
        retry: 'wait',
        retryAfterSeconds: wait,
        keepKey: true,
      };
    }
    case 'validation_failed': {
      const details = ValidationDetails.safeParse(apiError.details);
      const fields = details.success
        ? details.data.fields.map((field) => `${field.path}: ${field.message}`).join('; ')
        : apiError.message;
      return {
        ...base,
        tone: 'destructive',
        title: 'Something in your cart is not valid',
        message:
          `Check the quantities (1 to 100 each, at most 20 products) and try again. ${fields}`.trim(),
        retry: 'none',
        keepKey: false,
      };
    }
    case 'queue_pass_required':
      // The sale runs a waiting room and this buyer holds no live pass for it (never admitted,
      // or the pass ran out). Nothing was reserved; the turn has to come first.
      return {
        ...base,
        tone: 'warning',
        title: 'Your turn has not come yet',
        message: `${name} sells through a waiting room: you can order it once it is your turn, while your pass lasts. Go to the waiting room to take or check your place.`,
        retry: 'none',
        keepKey: false,
        fix:
          productId !== null ? { kind: 'queue', productId, label: 'Go to the waiting room' } : null,
      };
    case 'queue_closed':
      return {
        ...base,
        tone: 'destructive',
        title: 'The waiting room is closed',
        message: `The waiting room of ${name === 'This product' ? 'this product' : name} has closed: the sale is over or was stopped. Remove it to check out the rest of your cart.`,
        retry: 'none',
        keepKey: false,
        fix: removeFix(productId),
      };
    case 'challenge_failed':
      return {
        ...base,
        tone: 'warning',
        title: 'The browser check did not pass',
        message:
          'Your browser solves a small puzzle to keep bots out, and this one was refused or had expired. Reload the page and try again.',
        retry: 'none',
        keepKey: false,
      };
    case 'unauthorized':
      return {
        ...base,
        tone: 'warning',
        title: 'Please sign in again',
        message: 'Your session has ended. Sign in and your cart will be waiting.',
        retry: 'none',
        keepKey: false,
        fix: { kind: 'sign_in', label: 'Sign in' },
      };
    case 'network_error':
    case 'timeout':
    case 'internal_error':
    case 'invalid_response':
      return {
        ...base,
        tone: 'destructive',
        title: 'We could not confirm your order',
        message:
          'We did not get a clear answer from the server. Your order may or may not have gone through; retrying is safe and will never place it twice. You can also check My orders.',
        retry: 'now',
        keepKey: true,
      };
    default:
      return {
        ...base,
        tone: 'destructive',
        title: 'Your order was not placed',
        message: apiError.message || 'Something went wrong.',
        retry: apiError.isOutcomeUnknown ? 'now' : 'none',
        keepKey: apiError.isOutcomeUnknown,
      };
  }
}

/** The fix for a line that cannot be bought: take it out of the cart (when the answer names it). */
function removeFix(productId: number | null): CheckoutFix | null {
  return productId !== null
    ? { kind: 'remove', productId, label: 'Remove it from the cart' }
    : null;
}
