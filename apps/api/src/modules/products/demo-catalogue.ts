import type { CreateProductInput } from '@stampede/contract';
import type { AppContext } from '../../context.ts';
import { createProduct } from './services.ts';

const minutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();

/**
 * The demo shop of the zero-setup start: a sale live now, one starting a few minutes after
 * start, one sold out, one later today, and plain products. Illustrations are served by the API
 * under /images/products/.
 */
export function demoCatalogue(): CreateProductInput[] {
  const image = (name: string) => `/images/products/${name}.svg`;
  return [
    {
      sku: 'AUR-HP-01',
      name: 'Aurora Noise-Cancelling Headphones',
      description:
        'Over-ear wireless headphones with adaptive noise cancelling, 40-hour battery and a fold-flat case.',
      image_url: image('headphones'),
      price_cents: 12900,
      stock: 60,
      sale: { starts_at: minutes(-10), ends_at: minutes(180), max_per_user: 2 },
    },
    {
      sku: 'STR-RUN-42',
      name: 'Stride Runner Sneakers',
      description:
        'Featherweight running shoes with a recycled knit upper and a responsive foam sole.',
      image_url: image('sneakers'),
      price_cents: 8900,
      stock: 120,
      sale: { starts_at: minutes(3), ends_at: minutes(123), max_per_user: 2 },
    },
    {
      sku: 'LUM-KB-75',
      name: 'Lumen 75% Mechanical Keyboard',
      description:
        'Hot-swappable switches, gasket mount and per-key lighting in an aluminium case.',
      image_url: image('keyboard'),
      price_cents: 10900,
      stock: 0,
      sale: { starts_at: minutes(-60), ends_at: minutes(60), max_per_user: 1 },
    },
    {
      sku: 'TMP-SW-02',
      name: 'Tempo Smartwatch',
      description:
        'Heart-rate, sleep and GPS tracking with a week of battery on a sapphire display.',
      image_url: image('smartwatch'),
      price_cents: 17900,
      stock: 40,
      sale: { starts_at: minutes(240), ends_at: minutes(360), max_per_user: 1 },
    },
    {
      sku: 'CNV-DP-20',
      name: 'Canvas Daypack 20 L',
      description: 'Waxed canvas backpack with a padded laptop sleeve and leather straps.',
      image_url: image('backpack'),
      price_cents: 7400,
      stock: 85,
    },
    {
      sku: 'POR-CK-01',
      name: 'Pour-Over Coffee Kit',
      description: 'Ceramic dripper, glass carafe and 100 filters: café coffee at home.',
      image_url: image('coffee'),
      price_cents: 4500,
      stock: 150,
    },
    {
      sku: 'HAL-LMP-01',
      name: 'Halo Desk Lamp',
      description: 'Dimmable LED desk lamp with warm-to-cool colour and a wireless charging base.',
      image_url: image('lamp'),
      price_cents: 5900,
      stock: 9,
    },
    {
      sku: 'MER-SK-03',
      name: 'Merino Travel Socks (3 pairs)',
      description: 'Soft, odour-resistant merino wool socks for long days on the move.',
      image_url: image('socks'),
      price_cents: 2900,
      stock: 300,
    },
    {
      sku: 'FRM-CAM-35',
      name: 'Frame 35 mm Film Camera',
      description: 'A refurbished compact film camera with a sharp 35 mm f/2.8 lens.',
      image_url: image('camera'),
      price_cents: 24900,
      stock: 6,
    },
    {
      sku: 'TID-BTL-75',
      name: 'Tide Insulated Bottle 750 ml',
      description: 'Keeps drinks cold for 24 hours or hot for 12, in brushed stainless steel.',
      image_url: image('bottle'),
      price_cents: 3200,
      stock: 200,
    },
  ];
}

export async function seedDemoCatalogue({ ctx }: { ctx: AppContext }): Promise<number> {
  const catalogue = demoCatalogue();
  for (const product of catalogue) await createProduct({ ctx, input: product });
  return catalogue.length;
}
