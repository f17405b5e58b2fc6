import type { ApiError } from '@/api/api-error';

export function authErrorMessage(error: ApiError): string {
  switch (error.code) {
    case 'invalid_credentials':
      return 'That email and password do not match an account.';
    case 'rate_limited':
      return `Too many attempts. Try again in ${error.retryAfterSeconds ?? 60} seconds.`;
    case 'email_taken':
      return 'An account with this email exists. Sign in instead.';
    case 'validation_failed':
      return 'Check the highlighted fields.';
    case 'network_error':
    case 'timeout':
      return 'Could not reach the shop. Check your connection and try again.';
    default:
      return error.message || 'Something went wrong. Try again.';
  }
}
