const pad = (value: number) => String(value).padStart(2, '0');

/** An ISO instant as the value of an <input type="datetime-local"> (the browser's time zone). */
export function toDateTimeLocal(value: string | number | Date): string {
  const date = new Date(value);
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** The value of a datetime-local input, read in the browser's time zone, as an ISO instant in UTC. */
export function fromDateTimeLocal(value: string): string | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** "19.99" -> 1999; null when it is not a price with at most two decimals. */
export function parsePriceToCents(value: string): number | null {
  const text = value.trim().replace(/,/g, '');
  if (!/^\d+(\.\d{1,2})?$/.test(text)) return null;
  const [whole = '0', fraction = ''] = text.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

export const centsToPrice = (cents: number) => (cents / 100).toFixed(2);
