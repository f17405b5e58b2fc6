import { useId } from 'react';

export type ChartSeries = {
  name: string;
  color: string;
  /** One value per x; null is a gap. */
  values: (number | null)[];
  /** Drawn as steps (a count that holds until it changes) instead of straight segments. */
  step?: boolean;
};

const WIDTH = 640;
const HEIGHT = 200;
const PAD = { left: 48, right: 12, top: 10, bottom: 24 };

/** Round ticks for an axis from 0 to `max` (whole numbers for counts). */
function ticks(max: number, integer: boolean): number[] {
  if (max <= 0) return [0];
  const raw = integer ? Math.max(1, max / 4) : max / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step =
    [1, 2, 2.5, 5, 10]
      .map((m) => m * power)
      .find((s) => s >= raw && (!integer || Number.isInteger(s))) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max + step / 2; v += step) out.push(v);
  return out;
}

/**
 * A plain SVG line chart over time (no script or style from elsewhere: the console runs under
 * a strict Content-Security-Policy). `xs` are milliseconds since the epoch; every series has
 * one value per x.
 */
export function LineChart({
  title,
  xs,
  series,
  format = (v) => v.toLocaleString('en-US'),
  integer = true,
  testId,
}: {
  title: string;
  xs: number[];
  series: ChartSeries[];
  format?: (value: number) => string;
  /** The values are counts: whole-number ticks. */
  integer?: boolean;
  testId?: string;
}) {
  const titleId = useId();
  const max = Math.max(
    0,
    ...series.flatMap((s) => s.values.filter((v): v is number => v !== null)),
  );
  const yTicks = ticks(max, integer);
  const top = yTicks.at(-1) || 1;
  const x0 = xs[0] ?? 0;
  const span = Math.max(1, (xs.at(-1) ?? 1) - x0);
  const x = (t: number) => PAD.left + ((t - x0) / span) * (WIDTH - PAD.left - PAD.right);
  const y = (v: number) => HEIGHT - PAD.bottom - (v / top) * (HEIGHT - PAD.top - PAD.bottom);
  const path = (s: ChartSeries) => {
    let d = '';
    let previous: number | null = null;
    s.values.forEach((v, i) => {
      if (v === null) {
        previous = null;
        return;
      }
      const px = x(xs[i]!).toFixed(1);
      const py = y(v).toFixed(1);
      if (previous === null) d += `M${px},${py}`;
      else d += s.step ? `H${px}V${py}` : `L${px},${py}`;
      previous = v;
    });
    return d;
  };
  const minuteTicks = xs.filter((t) => t % 60_000 === 0);
  const latest = (s: ChartSeries) => [...s.values].reverse().find((v) => v !== null) ?? null;
  return (
    <figure className="flex flex-col gap-2" data-testid={testId}>
      <figcaption id={titleId} className="text-sm font-semibold">
        {title}
      </figcaption>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby={titleId}
        className="h-auto w-full"
      >
        {yTicks.map((v) => (
          <g key={v}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(v)} y2={y(v)} stroke="#e5e7eb" />
            <text x={PAD.left - 6} y={y(v) + 4} textAnchor="end" fontSize="11" fill="#6b7280">
              {format(v)}
            </text>
          </g>
        ))}
        {minuteTicks.map((t) => (
          <text key={t} x={x(t)} y={HEIGHT - 6} textAnchor="middle" fontSize="11" fill="#6b7280">
            {new Date(t).toLocaleTimeString('en-US', { hour: '2-digit', minute: '2-digit' })}
          </text>
        ))}
        {series.map((s) => (
          <path key={s.name} d={path(s)} fill="none" stroke={s.color} strokeWidth="2" />
        ))}
      </svg>
      <ul className="flex flex-wrap gap-x-4 gap-y-1 text-xs text-muted-foreground">
        {series.map((s) => {
          const value = latest(s);
          return (
            <li key={s.name} className="flex items-center gap-1.5">
              <svg viewBox="0 0 10 10" className="size-2.5" aria-hidden>
                <rect width="10" height="10" rx="2" fill={s.color} />
              </svg>
              {s.name}
              <span className="tabular font-semibold text-foreground">
                {value === null ? '–' : format(value)}
              </span>
            </li>
          );
        })}
      </ul>
    </figure>
  );
}
