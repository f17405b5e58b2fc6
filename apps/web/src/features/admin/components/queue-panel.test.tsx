import type { QueueView } from '@stampede/contract';
import { act, fireEvent, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeQueueView } from '@/testing/fixtures';
import { errorReply, mockApi, type MockReply, type RecordedRequest } from '@/testing/mock-api';
import { renderWithProviders } from '@/testing/render';
import { QueuePanel } from './queue-panel';

function serve(views: Array<MockReply | Partial<QueueView>>) {
  let last: MockReply = { status: 200, data: makeQueueView() };
  const toReply = (next: MockReply | Partial<QueueView>): MockReply =>
    'status' in next && typeof next.status === 'number' && !('product_id' in next)
      ? (next as MockReply)
      : { status: 200, data: makeQueueView(next as Partial<QueueView>) };
  return mockApi((request) => {
    expect(request.url).toBe('/admin/products/1/queue');
    if (request.method === 'PUT') {
      return { status: 200, data: makeQueueView({ ...(request.body as object) }) };
    }
    const next = views.shift();
    if (next) last = toReply(next);
    return last;
  });
}

const puts = (requests: RecordedRequest[]) =>
  requests.filter((request) => request.method === 'PUT');
const field = (name: RegExp) => screen.getByRole('textbox', { name });

describe('QueuePanel', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('shows the live figures and refreshes them every two seconds', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const requests = serve([
      { waiting: 120, active: 8, admitted_total: 40, units_left: 30 },
      { waiting: 90, active: 10, admitted_total: 70, units_left: 0, state: 'sold_out' },
    ]);
    renderWithProviders(<QueuePanel productId={1} />);
    expect(await screen.findByTestId('queue-admin-waiting')).toHaveTextContent('120');
    expect(screen.getByTestId('queue-admin-state')).toHaveTextContent('Admitting');
    expect(screen.getByTestId('queue-admin-active')).toHaveTextContent('8');
    expect(screen.getByTestId('queue-admin-admitted')).toHaveTextContent('40');
    expect(screen.getByTestId('queue-admin-units')).toHaveTextContent('30');
    expect(screen.getByTestId('queue-admin-rate')).toHaveTextContent('58.5 / 60');

    await act(() => vi.advanceTimersByTimeAsync(2_100));
    expect(requests.filter((request) => request.method === 'GET')).toHaveLength(2);
    expect(screen.getByTestId('queue-admin-waiting')).toHaveTextContent('90');
    expect(screen.getByTestId('queue-admin-state')).toHaveTextContent('Sold out');
    expect(screen.getByTestId('queue-admin-units')).toHaveClass('text-destructive');
  });

  it('refuses settings out of range, field by field, and sends nothing', async () => {
    const requests = serve([{}]);
    renderWithProviders(<QueuePanel productId={1} />);
    const admit = await screen.findByRole('textbox', { name: 'Admit per minute' });
    await userEvent.clear(admit);
    await userEvent.type(admit, '0');
    await userEvent.clear(field(/Pass lifetime/));
    await userEvent.type(field(/Pass lifetime/), '10');
    await userEvent.clear(field(/Inventory factor/));
    await userEvent.type(field(/Inventory factor/), 'x');
    await userEvent.click(screen.getByRole('button', { name: 'Save waiting room' }));

    expect(admit).toHaveAccessibleDescription('A whole number of buyers from 1 to 1,000,000.');
    expect(field(/Pass lifetime/)).toHaveAttribute('aria-invalid', 'true');
    expect(field(/Inventory factor/)).toHaveAccessibleDescription(
      'A number from 1 to 10, such as 1 or 1.5.',
    );
    expect(puts(requests)).toHaveLength(0);
  });

  it('saves valid settings with a PUT of the whole body, keeping the live pause', async () => {
    const requests = serve([{ paused: true, state: 'paused' }]);
    renderWithProviders(<QueuePanel productId={1} />);
    const admit = await screen.findByRole('textbox', { name: 'Admit per minute' });
    await userEvent.clear(admit);
    await userEvent.type(admit, '300');
    await userEvent.type(field(/Most buyers holding a pass/), '50');
    await userEvent.click(screen.getByRole('button', { name: 'Save waiting room' }));
    await waitFor(() => expect(puts(requests)).toHaveLength(1));
    expect(puts(requests)[0]?.body).toEqual({
      enabled: true,
      opens_before_seconds: 900,
      admit_per_minute: 300,
      max_active: 50,
      inventory_factor: 1,
      pass_ttl_seconds: 300,
      paused: true,
    });
    expect(await screen.findByText('Waiting room saved.')).toBeVisible();
  });

  it('pauses and resumes live, sending the current settings with the new pause', async () => {
    const requests = serve([{ admit_per_minute: 42 }]);
    renderWithProviders(<QueuePanel productId={1} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Pause admission' }));
    await waitFor(() => expect(puts(requests)).toHaveLength(1));
    expect(puts(requests)[0]?.body).toMatchObject({ paused: true, admit_per_minute: 42 });
    // The answer is shown at once, without waiting for the next refresh.
    expect(await screen.findByRole('button', { name: 'Resume admission' })).toBeVisible();
  });

  it('a product that never had a queue starts from the defaults, switched off', async () => {
    const requests = serve([errorReply(404, 'not_found')]);
    renderWithProviders(<QueuePanel productId={1} />);
    const enable = await screen.findByRole('checkbox', {
      name: 'Run a waiting room for this sale',
    });
    expect(enable).not.toBeChecked();
    expect(screen.queryByRole('button', { name: /admission/ })).not.toBeInTheDocument();
    await userEvent.click(enable);
    await userEvent.click(screen.getByRole('button', { name: 'Save waiting room' }));
    await waitFor(() => expect(puts(requests)).toHaveLength(1));
    expect(puts(requests)[0]?.body).toMatchObject({ enabled: true, paused: false });
  });
});
