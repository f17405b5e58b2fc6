import { createHash, randomBytes } from 'node:crypto';
import type { QueueStatus } from '@stampede/contract';
import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useServerClockStore } from '@/store/server-clock-store';
import { makeQueueStatus } from '@/testing/fixtures';
import { errorReply, mockApi, type MockReply, type RecordedRequest } from '@/testing/mock-api';
import { renderWithProviders } from '@/testing/render';
import { QUEUE_TICKETS_STORAGE_KEY, useQueueTicketStore } from '../store/queue-ticket-store';
import { WaitingRoom } from './waiting-room';

const NOW = Date.parse('2030-01-01T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

function serve(
  statuses: Array<Partial<QueueStatus>>,
  other: (request: RecordedRequest) => MockReply | undefined = () => undefined,
) {
  let last: Partial<QueueStatus> = statuses[0] ?? {};
  return mockApi((request) => {
    if (request.url === '/queues/1/status') {
      last = statuses.shift() ?? last;
      return { status: 200, data: makeQueueStatus(last) };
    }
    const reply = other(request);
    if (reply) return reply;
    throw new Error(`unexpected ${request.method} ${request.url}`);
  });
}

const statusCalls = (requests: RecordedRequest[]) =>
  requests.filter((request) => request.url === '/queues/1/status');

const liveRegion = () =>
  screen.getAllByRole('status').find((element) => element.getAttribute('aria-live') === 'polite')!;

describe('WaitingRoom, each state', () => {
  beforeEach(() => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    vi.setSystemTime(NOW);
    useServerClockStore.getState().reset();
    useQueueTicketStore.setState({ tickets: {} });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('not joined: explains the draw and offers to join', async () => {
    serve([{ state: 'not_joined', queue_state: 'pre_queue' }]);
    renderWithProviders(<WaitingRoom productId={1} productName="Aero Sneaker" />);
    expect(await screen.findByRole('button', { name: 'Join the queue' })).toBeEnabled();
    expect(screen.getByRole('heading', { name: 'Aero Sneaker' })).toBeVisible();
    expect(screen.getByText(/gets a random place at the start/)).toBeVisible();
    expect(screen.getByRole('timer', { name: /The sale starts in/ })).toHaveTextContent('10:00');
  });

  it('not open yet: the join button is off and says why', async () => {
    serve([{ state: 'not_joined', queue_state: 'not_open' }]);
    renderWithProviders(<WaitingRoom productId={1} />);
    const button = await screen.findByRole('button', { name: 'Join the queue' });
    expect(button).toBeDisabled();
    expect(button).toHaveAccessibleDescription(/not open yet/);
  });

  it('pre-queue: counts down to the draw and says arriving early buys nothing', async () => {
    serve([{ state: 'pre_queue', starts_at: iso(NOW + 90_000), ticket: 't-1' }]);
    renderWithProviders(<WaitingRoom productId={1} />);
    expect(await screen.findByRole('timer', { name: /The draw is in/ })).toHaveTextContent('01:30');
    expect(
      screen.getByText(
        /everyone here gets a random place at the start: arriving early or late in the pre-queue does not matter/i,
      ),
    ).toBeVisible();
    expect(liveRegion()).toHaveTextContent('Places are drawn at random when the sale starts');
  });

  it('waiting: place, people ahead, estimated wait, progress, and a polite announcement', async () => {
    serve([
      {
        state: 'waiting',
        queue_state: 'admitting',
        place: 41,
        ahead: 40,
        estimated_wait_seconds: 300,
        poll_after_ms: 2_000,
      },
      {
        state: 'waiting',
        queue_state: 'admitting',
        place: 11,
        ahead: 10,
        estimated_wait_seconds: 70,
        poll_after_ms: 2_000,
      },
    ]);
    renderWithProviders(<WaitingRoom productId={1} />);
    expect(await screen.findByTestId('queue-place')).toHaveTextContent('41');
    expect(screen.getByTestId('queue-ahead')).toHaveTextContent('40');
    expect(screen.getByTestId('queue-wait')).toHaveTextContent('about 5 minutes');
    const progress = screen.getByRole('progressbar', { name: 'Your way through the line' });
    expect(progress).toHaveAttribute('aria-valuenow', '0');
    expect(liveRegion()).toHaveTextContent('at most 40 people ahead of you');

    await act(() => vi.advanceTimersByTimeAsync(2_100));
    expect(screen.getByTestId('queue-place')).toHaveTextContent('11');
    // Measured against the most seen ahead (40): 30 of them are through.
    expect(progress).toHaveAttribute('aria-valuenow', '75');
    expect(progress).toHaveAttribute('aria-valuetext', '10 people ahead');
    expect(screen.getByTestId('queue-wait')).toHaveTextContent('about 1 minute');
    expect(liveRegion()).toHaveTextContent('You are number 11 in line, 10 people ahead of you.');
  });

  it('waiting while paused: no estimate, and says the place is kept', async () => {
    serve([{ state: 'waiting', queue_state: 'paused', place: 3, ahead: 2 }]);
    renderWithProviders(<WaitingRoom productId={1} />);
    expect(await screen.findByTestId('queue-wait')).toHaveTextContent('Paused');
    expect(screen.getByText(/paused admission/)).toBeVisible();
  });

  it('admitted: "your turn: N minutes to check out", the pass countdown and the buy control', async () => {
    serve([
      { state: 'admitted', queue_state: 'admitting', pass_expires_at: iso(NOW + 5 * 60_000) },
    ]);
    renderWithProviders(
      <WaitingRoom productId={1} renderBuy={() => <button type="button">Buy now</button>} />,
    );
    expect(await screen.findByText('Your turn: 5 minutes to check out')).toBeVisible();
    expect(screen.getByRole('timer', { name: /Your pass expires in/ })).toHaveTextContent('05:00');
    expect(screen.getByRole('button', { name: 'Buy now' })).toBeVisible();
    expect(liveRegion()).toHaveTextContent('It is your turn');
    // A buyer in another tab sees it in the tab's title.
    expect(document.title).toBe('Your turn! · Stampede');

    await act(() => vi.advanceTimersByTimeAsync(4 * 60_000 + 1_000));
    expect(screen.getByText('Your turn: 1 minute to check out')).toBeVisible();
    await act(() => vi.advanceTimersByTimeAsync(60_000));
    // Time is up on this clock: no buying while the server is asked.
    expect(screen.queryByRole('button', { name: 'Buy now' })).not.toBeInTheDocument();
  });

  it('pass expired: says so, without a join that would answer the same spent place', async () => {
    serve([{ state: 'pass_expired', queue_state: 'admitting', ticket: 't-1' }]);
    renderWithProviders(<WaitingRoom productId={1} />);
    expect(await screen.findByText('Your pass has expired')).toBeVisible();
    expect(screen.getByText(/one turn per sale/)).toBeVisible();
    expect(screen.queryByRole('button', { name: /join/i })).not.toBeInTheDocument();
    expect(liveRegion()).toHaveTextContent('Your pass has expired.');
  });

  it('sold out: nothing to wait for, and back to waiting when units return', async () => {
    const requests = serve([
      { state: 'sold_out', queue_state: 'sold_out', poll_after_ms: 3_000 },
      { state: 'waiting', queue_state: 'admitting', place: 5, ahead: 4, poll_after_ms: 3_000 },
    ]);
    renderWithProviders(<WaitingRoom productId={1} />);
    expect(await screen.findByText('Sold out: nothing to wait for')).toBeVisible();
    expect(liveRegion()).toHaveTextContent('Sold out: nothing to wait for.');
    await act(() => vi.advanceTimersByTimeAsync(3_100));
    expect(statusCalls(requests)).toHaveLength(2);
    expect(screen.getByTestId('queue-place')).toHaveTextContent('5');
  });

  it('closed: the sale is over, and polling stops', async () => {
    const requests = serve([{ state: 'closed', queue_state: 'closed', poll_after_ms: 1_000 }]);
    renderWithProviders(<WaitingRoom productId={1} />);
    expect(await screen.findByText('The sale is over')).toBeVisible();
    await act(() => vi.advanceTimersByTimeAsync(10_000));
    expect(statusCalls(requests)).toHaveLength(1);
  });

  it('a product without a queue says so and offers the buy control', async () => {
    serve([{ state: 'not_joined', queue_state: 'off' }]);
    renderWithProviders(
      <WaitingRoom productId={1} renderBuy={() => <button type="button">Buy now</button>} />,
    );
    expect(await screen.findByText(/no waiting room/)).toBeVisible();
    expect(screen.getByRole('button', { name: 'Buy now' })).toBeVisible();
  });
});

describe('WaitingRoom, polling and the ticket', () => {
  beforeEach(() => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    vi.setSystemTime(NOW);
    useQueueTicketStore.setState({ tickets: {} });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('polls after the poll_after_ms of each answer', async () => {
    const requests = serve([
      { state: 'waiting', place: 9, ahead: 8, poll_after_ms: 5_000 },
      { state: 'waiting', place: 8, ahead: 7, poll_after_ms: 1_000 },
    ]);
    renderWithProviders(<WaitingRoom productId={1} />);
    await screen.findByTestId('queue-place');
    expect(statusCalls(requests)).toHaveLength(1);
    await act(() => vi.advanceTimersByTimeAsync(4_500));
    expect(statusCalls(requests)).toHaveLength(1);
    await act(() => vi.advanceTimersByTimeAsync(600));
    expect(statusCalls(requests)).toHaveLength(2);
    // The second answer asks for a faster pace: one poll a second from now on.
    await act(() => vi.advanceTimersByTimeAsync(3_050));
    expect(statusCalls(requests)).toHaveLength(5);
  });

  it('a poll_after_ms of zero does not poll in a tight loop', async () => {
    const requests = serve([{ state: 'waiting', place: 2, ahead: 1, poll_after_ms: 0 }]);
    renderWithProviders(<WaitingRoom productId={1} />);
    await screen.findByTestId('queue-place');
    await act(() => vi.advanceTimersByTimeAsync(2_000));
    expect(statusCalls(requests).length).toBeLessThanOrEqual(5);
  });

  it('sends the stored ticket, and keeps the one an answer carries, across reloads', async () => {
    localStorage.setItem(
      QUEUE_TICKETS_STORAGE_KEY,
      JSON.stringify({ state: { tickets: { 1: 'ticket-old' } }, version: 1 }),
    );
    await useQueueTicketStore.persist.rehydrate();
    const requests = serve([{ state: 'waiting', place: 3, ahead: 2, ticket: 'ticket-new' }]);
    renderWithProviders(<WaitingRoom productId={1} />);
    await screen.findByTestId('queue-place');
    expect(statusCalls(requests)[0]?.headers.get('X-Queue-Ticket')).toBe('ticket-old');
    expect(JSON.parse(localStorage.getItem(QUEUE_TICKETS_STORAGE_KEY)!).state.tickets).toEqual({
      1: 'ticket-new',
    });
  });

  it('drops a ticket the server does not know (not joined, no ticket back)', async () => {
    useQueueTicketStore.getState().setTicket(1, 'someone-elses');
    useQueueTicketStore.getState().setTicket(2, 'other-sale');
    const requests = serve([{ state: 'not_joined', ticket: null }]);
    renderWithProviders(<WaitingRoom productId={1} />);
    await screen.findByRole('button', { name: 'Join the queue' });
    expect(statusCalls(requests)[0]?.headers.get('X-Queue-Ticket')).toBe('someone-elses');
    expect(useQueueTicketStore.getState().tickets).toEqual({ 2: 'other-sale' });
  });

  it('sends no ticket header when it holds none', async () => {
    const requests = serve([{ state: 'not_joined' }]);
    renderWithProviders(<WaitingRoom productId={1} />);
    await screen.findByRole('button', { name: 'Join the queue' });
    expect(statusCalls(requests)[0]?.headers.has('X-Queue-Ticket')).toBe(false);
  });
});

describe('WaitingRoom, joining', () => {
  beforeEach(() => {
    useQueueTicketStore.setState({ tickets: {} });
  });

  function challengeFor(number: number) {
    const salt = randomBytes(8).toString('hex');
    return {
      algorithm: 'SHA-256',
      challenge: createHash('sha256').update(`${salt}${number}`).digest('hex'),
      maxnumber: 4_000,
      salt,
      signature: 'sig',
    };
  }

  it('solves the challenge, joins with it, keeps the ticket and turns to the pre-queue', async () => {
    const challenge = challengeFor(3_210);
    const requests = serve([{ state: 'not_joined' }], (request) => {
      if (request.url === '/queues/1/challenge') return { status: 200, data: challenge };
      if (request.url === '/queues/1/join') {
        return {
          status: 201,
          data: makeQueueStatus({ state: 'pre_queue', ticket: 'ticket-1' }),
        };
      }
      return undefined;
    });
    renderWithProviders(<WaitingRoom productId={1} />);
    await userEvent.click(await screen.findByRole('button', { name: 'Join the queue' }));
    expect(await screen.findByText('You are in. The draw is at the start.')).toBeVisible();

    const join = requests.find((request) => request.url === '/queues/1/join')!;
    expect(join.method).toBe('POST');
    const payload = JSON.parse(
      Buffer.from((join.body as { altcha: string }).altcha, 'base64').toString('utf8'),
    );
    expect(payload).toEqual({
      algorithm: 'SHA-256',
      challenge: challenge.challenge,
      number: 3_210,
      salt: challenge.salt,
      signature: 'sig',
    });
    expect(useQueueTicketStore.getState().tickets).toEqual({ 1: 'ticket-1' });
    expect(localStorage.getItem(QUEUE_TICKETS_STORAGE_KEY)).toContain('ticket-1');
    // The join's answer is the status: no extra poll was needed to turn the page.
    expect(statusCalls(requests)).toHaveLength(1);
  });

  it('a refused check says so and offers a new try with a new challenge', async () => {
    const requests = serve([{ state: 'not_joined' }], (request) => {
      if (request.url === '/queues/1/challenge') return { status: 200, data: challengeFor(5) };
      if (request.url === '/queues/1/join') return errorReply(400, 'challenge_failed');
      return undefined;
    });
    renderWithProviders(<WaitingRoom productId={1} />);
    await userEvent.click(await screen.findByRole('button', { name: 'Join the queue' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The check did not pass');
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    await waitFor(() =>
      expect(requests.filter((request) => request.url === '/queues/1/challenge')).toHaveLength(2),
    );
  });

  it('a closed queue refuses the join, and the page says why', async () => {
    serve([{ state: 'not_joined', queue_state: 'admitting' }], (request) => {
      if (request.url === '/queues/1/challenge') return { status: 200, data: challengeFor(1) };
      if (request.url === '/queues/1/join') return errorReply(409, 'queue_closed');
      return undefined;
    });
    renderWithProviders(<WaitingRoom productId={1} />);
    await userEvent.click(await screen.findByRole('button', { name: 'Join the queue' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The waiting room is closed');
  });
});
