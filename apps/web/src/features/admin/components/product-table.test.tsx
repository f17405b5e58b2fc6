import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { makeProduct } from '@/testing/fixtures';
import { mockApi } from '@/testing/mock-api';
import { renderWithProviders } from '@/testing/render';
import { ProductTable } from './product-table';

describe('ProductTable', () => {
  it('pages past the first page of products, and a new search starts again at page one', async () => {
    const requests = mockApi(({ params }) => {
      const page = Number(params.page);
      return {
        status: 200,
        data: {
          items: [makeProduct({ id: page, sku: `SKU-${page}`, name: `Product on page ${page}` })],
          page,
          page_size: Number(params.page_size),
          total: 120,
          server_now: new Date().toISOString(),
        },
      };
    });
    renderWithProviders(<ProductTable />);

    expect(await screen.findByRole('link', { name: /Product on page 1/ })).toBeVisible();
    expect(screen.getByRole('navigation', { name: 'Pages' })).toHaveTextContent('Page 1 of 3');
    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(await screen.findByRole('link', { name: /Product on page 2/ })).toBeVisible();

    await userEvent.type(screen.getByRole('searchbox', { name: 'Search products' }), 'x');
    expect(await screen.findByRole('link', { name: /Product on page 1/ })).toBeVisible();
    expect(requests.at(-1)?.params).toMatchObject({ search: 'x', page: 1 });
  });
});
