import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { StockBar } from './stock-bar';

describe('StockBar', () => {
  it('shows units left in words and as a meter measured against the reference', () => {
    render(<StockBar available={60} reference={80} />);
    const meter = screen.getByRole('meter', { name: 'Stock left' });
    expect(meter).toHaveAttribute('aria-valuenow', '60');
    expect(meter).toHaveAttribute('aria-valuemax', '80');
    expect(meter).toHaveAttribute('aria-valuetext', '60 left');
    expect(screen.getByText('60 left')).toBeVisible();
    expect(screen.getByTestId('stock-bar-fill')).toHaveStyle({ width: '75%' });
  });

  it('turns urgent when a few units are left', () => {
    render(<StockBar available={3} reference={80} />);
    expect(screen.getByText('Only 3 left')).toHaveClass('text-destructive');
  });

  it('says sold out at zero, with an empty bar', () => {
    render(<StockBar available={0} reference={80} />);
    expect(screen.getByText('Sold out')).toBeVisible();
    expect(screen.getByTestId('stock-bar-fill')).toHaveStyle({ width: '0%' });
  });

  it('says the sale ended even with units left', () => {
    render(<StockBar available={9} reference={10} ended />);
    expect(screen.getByText('Sale ended')).toBeVisible();
  });

  it('never draws more than a full bar when stock went above the reference', () => {
    render(<StockBar available={120} reference={80} />);
    expect(screen.getByTestId('stock-bar-fill')).toHaveStyle({ width: '100%' });
  });

  it('before the sale, tells how many units go on sale instead of how many are left', () => {
    render(<StockBar available={120} reference={120} upcoming />);
    expect(screen.getByText('120 units at launch')).toBeVisible();
  });
});
