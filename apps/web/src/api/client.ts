import axios, { type AxiosError } from 'axios';
import { getAccessToken, useSessionStore } from '@/store/session-store';
import { toApiError } from './api-error';

/**
 * The one Axios instance. Requests carry the bearer token; every failure is rethrown as an
 * ApiError so that callers switch on `code`, never on Axios internals.
 */
export const api = axios.create({
  baseURL: '/api',
  timeout: 15_000,
  headers: { Accept: 'application/json' },
});

type UnauthorizedHandler = () => void;
let onUnauthorized: UnauthorizedHandler = () => {};

/** The app decides where a 401 leads (the login page); the client only reports it. */
export function setUnauthorizedHandler(handler: UnauthorizedHandler): void {
  onUnauthorized = handler;
}

api.interceptors.request.use((config) => {
  const token = getAccessToken();
  if (token) config.headers.set('Authorization', `Bearer ${token}`);
  return config;
});

api.interceptors.response.use(
  (response) => response,
  (error: AxiosError) => {
    const apiError = toApiError(error);
    // Only a request that carried a token means "your session is over"; a 401 from the login
    // form (wrong password) is an answer for that form, not a reason to navigate away.
    const sentToken = Boolean(error.config?.headers?.get?.('Authorization'));
    if (apiError.status === 401 && sentToken) {
      useSessionStore.getState().signOut();
      onUnauthorized();
    }
    return Promise.reject(apiError);
  },
);
