import { screen } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import { useSessionStore } from '@/store/session-store';
import { makeProduct, makeQueueStatus } from '@/testing/fixtures';
import { errorReply, mockApi, type MockReply } from '@/testing/mock-api';
import { renderWithProviders } from '@/testing/render';
import { useQueueTicketStore } from '../store/queue-ticket-store';
import { QueueGate } from './queue-gate';

const flashSale = makeProduct({ id: 1 });

function renderGate(reply: MockReply, variant: 'card' | 'page' = 'card', product = flashSale) {
  const requests = mockApi(() => reply);
  renderWithProviders(
    <QueueGate product={product} variant={variant}>
      <button type="button">Add to cart</button>
    </QueueGate>,
  );
  return requests;
}

describe('QueueGate', () => {
  beforeEach(() => {
    useSessionStore.getState().signIn({ accessToken: 'tok', expiresInSeconds: 3600 });
    useQueueTicketStore.setState({ tickets: {} });
  });

  it('a queued sale sends the buyer to the waiting room instead of buying', async () => {
    const requests = renderGate({
      status: 200,
      data: makeQueueStatus({ state: 'not_joined', queue_state: 'pre_queue' }),
    });
    const link = await screen.findByRole('link', { name: 'Join the waiting room' });
    expect(link).toHaveAttribute('href', '/queue/1');
    expect(screen.queryByRole('button', { name: 'Add to cart' })).not.toBeInTheDocument();
    expect(requests[0]?.url).toBe('/queues/1/status');
  });

  it('on the product page it explains, and shows the place of a buyer in line', async () => {
    renderGate(
      {
        status: 200,
        data: makeQueueStatus({ state: 'waiting', queue_state: 'admitting', place: 12, ahead: 11 }),
      },
      'page',
    );
    expect(await screen.findByText('This drop sells through a waiting room')).toBeVisible();
    expect(screen.getByText(/You are number 12 in line/)).toBeVisible();
    expect(screen.getByRole('link', { name: 'Your place in line' })).toHaveAttribute(
      'href',
      '/queue/1',
    );
  });

  it('a buyer holding a pass gets the buy control, with the pass countdown', async () => {
    renderGate({
      status: 200,
      data: makeQueueStatus({
        state: 'admitted',
        queue_state: 'admitting',
        pass_expires_at: new Date(Date.now() + 120_000).toISOString(),
      }),
    });
    expect(await screen.findByRole('button', { name: 'Add to cart' })).toBeVisible();
    expect(screen.getByTestId('queue-pass')).toHaveTextContent('Your turn');
    expect(screen.getByRole('timer', { name: /Your pass expires in/ })).toBeInTheDocument();
  });

  it('without a queue (queue_state off) the buy control shows as usual', async () => {
    renderGate({ status: 200, data: makeQueueStatus({ queue_state: 'off' }) });
    expect(await screen.findByRole('button', { name: 'Add to cart' })).toBeVisible();
    expect(screen.queryByRole('link')).not.toBeInTheDocument();
  });

  it('when the status cannot be read, the buy control shows (the server still decides)', async () => {
    renderGate(errorReply(503, 'service_unavailable'));
    expect(await screen.findByRole('button', { name: 'Add to cart' })).toBeVisible();
  });

  it('asks nothing for a product without a sale, or for a visitor who is not signed in', () => {
    const requests = renderGate(
      { status: 200, data: makeQueueStatus() },
      'card',
      makeProduct({ sale: null }),
    );
    expect(screen.getByRole('button', { name: 'Add to cart' })).toBeVisible();
    useSessionStore.getState().signOut();
    renderGate({ status: 200, data: makeQueueStatus() });
    expect(screen.getAllByRole('button', { name: 'Add to cart' })).toHaveLength(2);
    expect(requests).toHaveLength(0);
  });
});
