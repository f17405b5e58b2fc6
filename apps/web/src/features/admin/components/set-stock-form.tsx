import { useState, type FormEvent } from 'react';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { TextField } from '@/components/ui/input';
import { useLiveStock } from '../api/get-live-stock';
import { useSetStock } from '../api/set-stock';

export function SetStockForm({ productId }: { productId: number }) {
  const live = useLiveStock({ productId });
  const [quantity, setQuantity] = useState('');
  const [error, setError] = useState<string | null>(null);
  const setStock = useSetStock({ mutationConfig: { onSuccess: () => setQuantity('') } });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const text = quantity.trim();
    const value = Number(text);
    if (!/^\d+$/.test(text) || value > 10_000_000) {
      setError('Enter a whole number from 0 to 10,000,000.');
      return;
    }
    setError(null);
    setStock.mutate({ productId, quantity: value });
  };

  return (
    <form onSubmit={submit} noValidate className="flex flex-col gap-4" aria-label="Set stock">
      <p className="text-sm">
        On sale now:{' '}
        <span className="tabular text-lg font-bold" data-testid="admin-live-stock">
          {live.data ? live.data.available.toLocaleString('en-US') : '…'}
        </span>{' '}
        <span className="text-muted-foreground">units</span>
      </p>
      <div className="flex items-end gap-2">
        <TextField
          label="New stock"
          inputMode="numeric"
          value={quantity}
          onChange={(e) => setQuantity(e.target.value)}
          error={error}
          hint="Replaces the units on sale; orders already placed keep theirs."
          className="flex-1"
        />
      </div>
      <Button type="submit" variant="secondary" loading={setStock.isPending}>
        Set stock
      </Button>
      {setStock.isSuccess && (
        <Alert
          tone="success"
          title={`Stock set to ${setStock.data.available.toLocaleString('en-US')}.`}
        />
      )}
      {setStock.isError && <Alert tone="destructive" title={setStock.error.message} />}
    </form>
  );
}
