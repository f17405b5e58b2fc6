import { AddToCart } from '@/features/cart/components/add-to-cart';
import { ProductCatalogue } from '@/features/products/components/product-catalogue';

export function CatalogueRoute() {
  return (
    <ProductCatalogue
      renderAction={({ product, sale }) => <AddToCart product={product} phase={sale.phase} />}
    />
  );
}
