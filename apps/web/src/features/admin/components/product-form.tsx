import { CreateProductInput, UpdateProductInput, type Product } from '@stampede/contract';
import { useState, type FormEvent } from 'react';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { TextAreaField, TextField } from '@/components/ui/input';
import { getServerNow } from '@/store/server-clock-store';
import { apiFieldErrors, type FieldErrors } from '@/utils/form-errors';
import { useCreateProduct } from '../api/create-product';
import { useUpdateProduct } from '../api/update-product';
import {
  centsToPrice,
  fromDateTimeLocal,
  parsePriceToCents,
  toDateTimeLocal,
} from '../utils/datetime-local';

type FormState = {
  sku: string;
  name: string;
  description: string;
  imageUrl: string;
  price: string;
  currency: string;
  isActive: boolean;
  stock: string;
  stockBuckets: string;
  hasSale: boolean;
  startsAt: string;
  endsAt: string;
  maxPerUser: string;
};

function initialState(product?: Product): FormState {
  const start = Math.ceil((getServerNow() + 10 * 60_000) / 60_000) * 60_000;
  return {
    sku: product?.sku ?? '',
    name: product?.name ?? '',
    description: product?.description ?? '',
    imageUrl: product?.image_url ?? '',
    price: product ? centsToPrice(product.price_cents) : '',
    currency: product?.currency ?? 'USD',
    isActive: product?.is_active ?? true,
    stock: '100',
    stockBuckets: String(product?.stock_buckets ?? 1),
    hasSale: product ? product.sale !== null : true,
    startsAt: toDateTimeLocal(product?.sale?.starts_at ?? start),
    endsAt: product?.sale?.ends_at ? toDateTimeLocal(product.sale.ends_at) : '',
    maxPerUser: product?.sale?.max_per_user ? String(product.sale.max_per_user) : '',
  };
}

const wholeNumber = (text: string) => (/^\d+$/.test(text.trim()) ? Number(text.trim()) : -1);

/** Everything the form says, as the API body; `price` and `stock` errors are reported by name. */
function toBody(state: FormState) {
  const priceCents = parsePriceToCents(state.price);
  const sale = state.hasSale
    ? {
        starts_at: fromDateTimeLocal(state.startsAt) ?? '',
        ends_at: fromDateTimeLocal(state.endsAt),
        max_per_user: state.maxPerUser.trim() === '' ? null : Number(state.maxPerUser),
      }
    : null;
  return {
    priceCents,
    body: {
      sku: state.sku.trim(),
      name: state.name.trim(),
      description: state.description,
      image_url: state.imageUrl.trim() === '' ? null : state.imageUrl.trim(),
      price_cents: priceCents ?? -1,
      currency: state.currency.trim().toUpperCase(),
      is_active: state.isActive,
      sale,
      stock_buckets: wholeNumber(state.stockBuckets),
    },
  };
}

function issuesToErrors(
  issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>,
): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of issues) {
    const key = issue.path.map(String).join('.') || 'form';
    errors[key] ??= issue.message;
  }
  return errors;
}

export function ProductForm({
  product,
  onSaved,
}: {
  /** Absent: create a new product (with its stock). Present: edit it (stock is set separately). */
  product?: Product;
  onSaved: (product: Product) => void;
}) {
  const [state, setState] = useState<FormState>(() => initialState(product));
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useCreateProduct({
    mutationConfig: { onSuccess: onSaved, onError: (error) => setErrors(apiFieldErrors(error)) },
  });
  const update = useUpdateProduct({
    mutationConfig: { onSuccess: onSaved, onError: (error) => setErrors(apiFieldErrors(error)) },
  });
  const mutation = product ? update : create;
  const set = <K extends keyof FormState>(key: K, value: FormState[K]) =>
    setState((current) => ({ ...current, [key]: value }));

  const startIn = (ms: number) => {
    const at = Math.ceil((getServerNow() + ms) / 1000) * 1000;
    set('startsAt', toDateTimeLocal(at));
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const { body, priceCents } = toBody(state);
    const local: FieldErrors = {};
    if (priceCents === null) local.price_cents = 'Enter a price such as 19.99';
    if (product) {
      const parsed = UpdateProductInput.safeParse(body);
      const found = { ...(parsed.success ? {} : issuesToErrors(parsed.error.issues)), ...local };
      setErrors(found);
      if (!parsed.success || Object.keys(found).length) return;
      update.mutate({ productId: product.id, input: parsed.data });
    } else {
      const parsed = CreateProductInput.safeParse({ ...body, stock: wholeNumber(state.stock) });
      const found = { ...(parsed.success ? {} : issuesToErrors(parsed.error.issues)), ...local };
      setErrors(found);
      if (!parsed.success || Object.keys(found).length) return;
      create.mutate(parsed.data);
    }
  };

  const serverError = mutation.error;
  const serverTitle =
    serverError?.code === 'sku_taken'
      ? 'That SKU is already used by another product.'
      : serverError?.code === 'validation_failed'
        ? 'The server refused some fields; see below.'
        : serverError?.message;

  return (
    <form
      onSubmit={submit}
      noValidate
      className="flex flex-col gap-6"
      aria-label={product ? 'Edit product' : 'New product'}
    >
      {serverError && <Alert tone="destructive" title={serverTitle ?? 'Could not save'} />}
      {errors.form && <Alert tone="destructive" title={errors.form} />}
      <fieldset className="grid gap-4 sm:grid-cols-2">
        <legend className="mb-2 text-base font-semibold">Product</legend>
        <TextField
          label="Name"
          value={state.name}
          onChange={(e) => set('name', e.target.value)}
          error={errors.name}
          required
        />
        <TextField
          label="SKU"
          value={state.sku}
          onChange={(e) => set('sku', e.target.value)}
          error={errors.sku}
          hint="Letters, digits, dot, dash, underscore."
          required
        />
        <TextField
          label="Price"
          inputMode="decimal"
          value={state.price}
          onChange={(e) => set('price', e.target.value)}
          error={errors.price_cents}
          placeholder="19.99"
          required
        />
        <TextField
          label="Currency"
          value={state.currency}
          onChange={(e) => set('currency', e.target.value)}
          error={errors.currency}
          maxLength={3}
        />
        <TextField
          label="Image URL"
          className="sm:col-span-2"
          value={state.imageUrl}
          onChange={(e) => set('imageUrl', e.target.value)}
          error={errors.image_url}
          hint="An https:// address or a path such as /images/sneaker.svg. Optional."
        />
        <TextAreaField
          label="Description"
          className="sm:col-span-2"
          value={state.description}
          onChange={(e) => set('description', e.target.value)}
          error={errors.description}
        />
        {!product && (
          <TextField
            label="Stock"
            inputMode="numeric"
            value={state.stock}
            onChange={(e) => set('stock', e.target.value)}
            error={errors.stock}
            hint="Units on sale. You can change it later."
            required
          />
        )}
        <TextField
          label="Stock buckets"
          inputMode="numeric"
          value={state.stockBuckets}
          onChange={(e) => set('stockBuckets', e.target.value)}
          error={errors.stock_buckets}
          hint="1 to 16. On a Redis Cluster, a hot product's stock split over this many shards. Set it before the sale."
        />
        <label className="flex items-center gap-2 self-end pb-2 text-sm font-medium">
          <input
            type="checkbox"
            className="size-4 accent-primary"
            checked={state.isActive}
            onChange={(e) => set('isActive', e.target.checked)}
          />
          Visible in the shop
        </label>
      </fieldset>

      <fieldset className="flex flex-col gap-4 rounded-lg border border-border p-4">
        <legend className="px-1 text-base font-semibold">Flash sale</legend>
        <label className="flex items-center gap-2 text-sm font-medium">
          <input
            type="checkbox"
            className="size-4 accent-primary"
            checked={state.hasSale}
            onChange={(e) => set('hasSale', e.target.checked)}
          />
          Sell only during a sale window
        </label>
        {state.hasSale && (
          <div className="grid gap-4 sm:grid-cols-3">
            <div className="flex flex-col gap-2">
              <TextField
                label="Starts at"
                type="datetime-local"
                step={1}
                value={state.startsAt}
                onChange={(e) => set('startsAt', e.target.value)}
                error={errors['sale.starts_at'] ?? errors.sale}
              />
              <div className="flex flex-wrap gap-1" aria-label="Start presets" role="group">
                {[
                  ['now', 0],
                  ['+1 min', 60_000],
                  ['+10 min', 600_000],
                  ['+1 h', 3_600_000],
                ].map(([label, ms]) => (
                  <button
                    key={label}
                    type="button"
                    className="rounded-md border border-border px-2 py-0.5 text-xs hover:bg-muted"
                    onClick={() => startIn(Number(ms))}
                  >
                    {label}
                  </button>
                ))}
              </div>
            </div>
            <TextField
              label="Ends at"
              type="datetime-local"
              step={1}
              value={state.endsAt}
              onChange={(e) => set('endsAt', e.target.value)}
              error={errors['sale.ends_at']}
              hint="Optional: leave empty to sell until stock runs out."
            />
            <TextField
              label="Max per customer"
              inputMode="numeric"
              value={state.maxPerUser}
              onChange={(e) => set('maxPerUser', e.target.value)}
              error={errors['sale.max_per_user']}
              hint="Optional."
            />
          </div>
        )}
        <p className="text-xs text-muted-foreground">
          Times are in your time zone ({Intl.DateTimeFormat().resolvedOptions().timeZone}); the shop
          stores them in UTC.
        </p>
      </fieldset>

      <div className="flex justify-end gap-2">
        <Button type="submit" loading={mutation.isPending}>
          {product ? 'Save changes' : 'Create product'}
        </Button>
      </div>
    </form>
  );
}
