import { toApiError } from '@/api/api-error';

/** A failed join in words: what happened and whether trying again can help. */
export function describeQueueError(error: unknown): {
  title: string;
  message: string;
  canRetry: boolean;
} {
  const apiError = toApiError(error);
  switch (apiError.code) {
    case 'challenge_failed':
      return {
        title: 'The check did not pass',
        message:
          'Your browser solves a small puzzle before joining, to keep bots out. This one was refused or had expired. Try again: a new puzzle is fetched.',
        canRetry: true,
      };
    case 'queue_closed':
      return {
        title: 'The waiting room is closed',
        message: 'This sale no longer takes new arrivals: it has ended or was stopped.',
        canRetry: false,
      };
    case 'rate_limited': {
      const wait = apiError.retryAfterSeconds ?? 5;
      return {
        title: 'Too many tries',
        message: `Joins are limited per network. Try again in ${wait} second${wait === 1 ? '' : 's'}.`,
        canRetry: true,
      };
    }
    case 'unauthorized':
      return {
        title: 'Please sign in again',
        message: 'Your session has ended. Sign in to join the queue.',
        canRetry: false,
      };
    case 'network_error':
    case 'timeout':
      return {
        title: 'We could not reach the shop',
        message:
          'Check your connection and try again. If you had joined, your place is kept: this page will show it.',
        canRetry: true,
      };
    default:
      return {
        title: 'You could not join the queue',
        message: apiError.message || 'Something went wrong.',
        canRetry: apiError.isOutcomeUnknown || apiError.code === 'unknown_error',
      };
  }
}
