import { useState } from 'react';
import { cn } from '@/utils/cn';

/**
 * A product photo, or a calm placeholder when there is none or it fails to load. `src` may be an
 * absolute URL or a path the API serves (`/images/x.svg`); both work as they are.
 */
export function ProductImage({
  src,
  alt,
  className,
}: {
  src: string | null;
  alt: string;
  className?: string;
}) {
  // Keyed by src so that a new URL gets a fresh chance after an old one failed.
  return <ProductImageInner key={src ?? ''} src={src} alt={alt} className={className} />;
}

function ProductImageInner({
  src,
  alt,
  className,
}: {
  src: string | null;
  alt: string;
  className?: string;
}) {
  const [failed, setFailed] = useState(false);
  if (!src || failed) {
    return (
      <div
        role="img"
        aria-label={alt}
        className={cn(
          'flex items-center justify-center bg-gradient-to-br from-muted via-card to-accent/60 text-muted-foreground/70',
          className,
        )}
      >
        <svg viewBox="0 0 48 48" className="size-1/3 max-h-16 max-w-16" fill="none" aria-hidden>
          <path
            d="M10 16h28l-3 24H13L10 16Zm7 0v-3a7 7 0 0 1 14 0v3"
            stroke="currentColor"
            strokeWidth="2.5"
            strokeLinejoin="round"
          />
          <path d="m26 21-6 9h5l-2 7 6-9h-5l2-7Z" fill="currentColor" />
        </svg>
      </div>
    );
  }
  return (
    <img
      src={src}
      alt={alt}
      loading="lazy"
      decoding="async"
      onError={() => setFailed(true)}
      className={cn('bg-muted object-cover', className)}
    />
  );
}
