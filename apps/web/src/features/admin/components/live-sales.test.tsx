import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { makeProduct, makeQueueView } from '@/testing/fixtures';
import { errorReply, mockApi } from '@/testing/mock-api';
import { renderWithProviders } from '@/testing/render';
import { LiveSales } from './live-sales';

const live = { starts_at: '2020-01-01T00:00:00.000Z', ends_at: null, max_per_user: null };

describe('LiveSales', () => {
  it('shows the waiting room of a running sale in one line, and nothing for one without', async () => {
    mockApi(({ url }) => {
      if (url === '/products') {
        return {
          status: 200,
          data: {
            items: [
              makeProduct({ id: 1, name: 'Queued drop', sale: live }),
              makeProduct({ id: 2, sku: 'SKU-2', name: 'Open drop', sale: live }),
            ],
            page: 1,
            page_size: 50,
            total: 2,
            server_now: new Date().toISOString(),
          },
        };
      }
      if (url === '/products/1/stock' || url === '/products/2/stock') {
        return {
          status: 200,
          data: { product_id: 1, available: 30, server_now: new Date().toISOString() },
        };
      }
      if (url === '/admin/products/1/queue') {
        return { status: 200, data: makeQueueView({ waiting: 1_250, active: 12 }) };
      }
      if (url === '/admin/products/2/queue') {
        return {
          status: 200,
          data: makeQueueView({ product_id: 2, enabled: false, state: 'off' }),
        };
      }
      if (url === '/admin/orders') {
        return { status: 200, data: { items: [], page: 1, page_size: 100, total: 0 } };
      }
      return errorReply(404, 'not_found');
    });
    renderWithProviders(<LiveSales />);
    const line = await screen.findByTestId('live-queue');
    expect(line).toHaveTextContent(
      'Waiting room: admitting · 1,250 waiting · 12 with a pass · 58.5/min',
    );
    expect(screen.getAllByTestId('live-queue')).toHaveLength(1);
    expect(screen.getByRole('link', { name: 'Waiting room' })).toHaveAttribute(
      'href',
      '/admin/products/1',
    );
  });
});
