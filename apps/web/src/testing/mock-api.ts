import { AxiosError, AxiosHeaders, type InternalAxiosRequestConfig } from 'axios';
import { api } from '@/api/client';

export type MockReply = { status: number; data?: unknown; headers?: Record<string, string> };
export type MockHandler = (request: {
  method: string;
  url: string;
  params: Record<string, unknown>;
  body: unknown;
  headers: AxiosHeaders;
}) => MockReply | Promise<MockReply>;

export type RecordedRequest = Parameters<MockHandler>[0];

/**
 * Replaces the Axios transport of the app's one client, so tests exercise the real interceptors,
 * error mapping and schemas. Returns the list of requests seen.
 */
export function mockApi(handler: MockHandler): RecordedRequest[] {
  const seen: RecordedRequest[] = [];
  api.defaults.adapter = async (config: InternalAxiosRequestConfig) => {
    const request = {
      method: (config.method ?? 'get').toUpperCase(),
      url: config.url ?? '',
      params: (config.params ?? {}) as Record<string, unknown>,
      body: typeof config.data === 'string' ? JSON.parse(config.data) : config.data,
      headers: AxiosHeaders.from(config.headers),
    };
    seen.push(request);
    const reply = await handler(request);
    const response = {
      data: reply.data ?? null,
      status: reply.status,
      statusText: String(reply.status),
      headers: new AxiosHeaders({ 'x-request-id': 'req-test', ...reply.headers }),
      config,
    };
    if (reply.status >= 200 && reply.status < 300) return response;
    throw new AxiosError(
      `Request failed with status code ${reply.status}`,
      reply.status >= 500 ? AxiosError.ERR_BAD_RESPONSE : AxiosError.ERR_BAD_REQUEST,
      config,
      null,
      response,
    );
  };
  return seen;
}

export const errorReply = (
  status: number,
  code: string,
  details: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): MockReply => ({
  status,
  data: { error: { code, message: `server says ${code}`, details } },
  headers,
});
