import { LiveEvent } from '@stampede/contract';
import { skipToken, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { getAccessToken } from '@/store/session-store';
import { mergeLiveEvent, type LiveState } from '../utils/merge-live';

export const liveQueryKey = ['admin', 'live'] as const;

export type StreamStatus = 'connecting' | 'live' | 'reconnecting';

/** Server-sent events over fetch (EventSource cannot send the bearer token). */
async function readStream(signal: AbortSignal, onEvent: (event: LiveEvent) => void): Promise<void> {
  const token = getAccessToken();
  const response = await fetch('/api/admin/live/stream', {
    headers: {
      Accept: 'text/event-stream',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    signal,
  });
  if (!response.ok || !response.body) throw new Error(`live stream answered ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n');
      if (data) onEvent(LiveEvent.parse(JSON.parse(data)));
    }
  }
}

/**
 * The live sale view, streamed from the API. Events are folded into TanStack Query's cache (the
 * stream is server state, like any answer); a dropped stream reconnects after a pause and
 * starts again from a snapshot, so a restarted or replaced API process is picked up.
 */
export function useLiveStream(): { state: LiveState | undefined; status: StreamStatus } {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<StreamStatus>('connecting');
  // Fed by the stream below, never fetched.
  const query = useQuery<LiveState>({ queryKey: liveQueryKey, queryFn: skipToken });

  useEffect(() => {
    const controller = new AbortController();
    let retry: ReturnType<typeof setTimeout> | undefined;
    const connect = () => {
      void readStream(controller.signal, (event) => {
        setStatus('live');
        queryClient.setQueryData<LiveState | undefined>(liveQueryKey, (state) =>
          mergeLiveEvent(state, event),
        );
      })
        .catch(() => undefined)
        .finally(() => {
          if (controller.signal.aborted) return;
          setStatus('reconnecting');
          retry = setTimeout(connect, 2000);
        });
    };
    connect();
    return () => {
      controller.abort();
      clearTimeout(retry);
    };
  }, [queryClient]);

  return { state: query.data, status };
}
