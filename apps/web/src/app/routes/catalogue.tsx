import { AddToCart } from '@/features/cart/components/add-to-cart';
import { ProductCatalogue } from '@/features/products/components/product-catalogue';
import { QueueGate } from '@/features/queue/components/queue-gate';

export function CatalogueRoute() {
  return (
    <ProductCatalogue
      renderAction={({ product, sale }) => (
        <QueueGate product={product} variant="card" ended={sale.phase === 'ended'}>
          <AddToCart product={product} phase={sale.phase} />
        </QueueGate>
      )}
    />
  );
}
