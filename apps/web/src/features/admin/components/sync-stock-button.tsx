import { Button } from '@/components/ui/button';
import { useSyncStock } from '../api/sync-stock';

/** Resets the stock gate from the database, for every product. */
export function SyncStockButton() {
  const sync = useSyncStock();
  return (
    <div className="flex flex-col items-end gap-1">
      <Button variant="outline" size="sm" loading={sync.isPending} onClick={() => sync.mutate({})}>
        Sync stock cache
      </Button>
      <p className="text-xs text-muted-foreground" role="status">
        {sync.isSuccess &&
          `Synced ${sync.data.synced} product${sync.data.synced === 1 ? '' : 's'}, drift corrected: ${sync.data.drift} unit${sync.data.drift === 1 ? '' : 's'}.`}
        {sync.isError && (
          <span className="text-destructive">Sync failed: {sync.error.message}</span>
        )}
      </p>
    </div>
  );
}
