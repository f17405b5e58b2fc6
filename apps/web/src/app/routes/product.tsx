import { useParams } from 'react-router';
import { EmptyState } from '@/components/ui/states';
import { AddToCart } from '@/features/cart/components/add-to-cart';
import { ProductDetails } from '@/features/products/components/product-details';
import { QueueGate } from '@/features/queue/components/queue-gate';
import { parseIdParam } from './parse-id-param';

export function ProductRoute() {
  const productId = parseIdParam(useParams().productId);
  if (productId === null) return <EmptyState title="This product does not exist" />;
  return (
    <ProductDetails
      key={productId}
      productId={productId}
      renderAction={({ product, sale }) => (
        <QueueGate product={product} variant="page" ended={sale.phase === 'ended'}>
          <AddToCart product={product} phase={sale.phase} variant="page" />
        </QueueGate>
      )}
    />
  );
}
