import { useEffect, useRef, useState } from 'react';
import { formatCompact } from '../lib/format';

export interface Point { t: number; v: number }
export interface Series { name: string; points: Point[]; color: string }

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const exp = 10 ** Math.floor(Math.log10(v));
  const f = v / exp;
  const nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return nice * exp;
}

function useWidth(fallback: number): [React.RefObject<HTMLDivElement | null>, number] {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const node = ref.current;
    if (node === null || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver((entries) => {
      const w = entries[0]?.contentRect.width;
      if (w !== undefined && w > 0) setWidth(Math.floor(w));
    });
    ro.observe(node);
    return () => ro.disconnect();
  }, []);
  return [ref, width];
}

function clock(t: number): string {
  const d = new Date(t);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:${String(d.getSeconds()).padStart(2, '0')}`;
}

/** Time series as SVG polylines with a zero-based y axis; no chart library. */
export function LineChart({ series, height = 160, format = formatCompact, label }: { series: Series[]; height?: number; format?: (v: number) => string; label: string }) {
  const [ref, width] = useWidth(560);
  const all = series.flatMap((s) => s.points);
  const padL = 44;
  const padR = 8;
  const padT = 8;
  const padB = 20;
  const innerW = Math.max(10, width - padL - padR);
  const innerH = height - padT - padB;
  const minT = all.length ? Math.min(...all.map((p) => p.t)) : 0;
  const maxT = all.length ? Math.max(...all.map((p) => p.t)) : 1;
  const maxV = niceMax(all.length ? Math.max(...all.map((p) => p.v)) : 0);
  const x = (t: number) => padL + (maxT === minT ? innerW : ((t - minT) / (maxT - minT)) * innerW);
  const y = (v: number) => padT + innerH - (v / maxV) * innerH;
  const ticks = [0, 0.5, 1].map((f) => f * maxV);
  const latest = series.map((s) => ({ name: s.name, color: s.color, v: s.points[s.points.length - 1]?.v }));
  return (
    <div ref={ref}>
      <div className="legend" style={{ marginBottom: 4 }}>
        {latest.map((s) => (
          <span key={s.name}>
            <i style={{ background: s.color }} />
            {s.name} <strong className="num">{s.v === undefined ? '—' : format(s.v)}</strong>
          </span>
        ))}
      </div>
      <svg className="chart" width={width} height={height} role="img" aria-label={label}>
        {ticks.map((v) => (
          <g key={v}>
            <line className="grid-line" x1={padL} x2={padL + innerW} y1={y(v)} y2={y(v)} />
            <text x={padL - 6} y={y(v) + 3} textAnchor="end">
              {formatCompact(v)}
            </text>
          </g>
        ))}
        <line className="axis" x1={padL} x2={padL + innerW} y1={padT + innerH} y2={padT + innerH} />
        {all.length > 0 && (
          <>
            <text x={padL} y={height - 4}>{clock(minT)}</text>
            <text x={padL + innerW} y={height - 4} textAnchor="end">{clock(maxT)}</text>
          </>
        )}
        {series.map((s) =>
          s.points.length === 1 ? (
            <circle key={s.name} cx={x(s.points[0]!.t)} cy={y(s.points[0]!.v)} r={2.5} fill={s.color} />
          ) : (
            <polyline key={s.name} fill="none" stroke={s.color} strokeWidth={1.75} strokeLinejoin="round" points={s.points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ')} />
          ),
        )}
        {all.length === 0 && (
          <text x={padL + innerW / 2} y={padT + innerH / 2} textAnchor="middle">
            Collecting samples…
          </text>
        )}
      </svg>
    </div>
  );
}

/** Horizontal bars, one per row (e.g. lag per partition), scaled to the largest. */
export function BarList({ rows, label }: { rows: { name: string; value: number | null }[]; label: string }) {
  const max = Math.max(1, ...rows.map((r) => r.value ?? 0));
  return (
    <div role="list" aria-label={label} style={{ display: 'grid', gridTemplateColumns: 'max-content 1fr max-content', gap: '4px 10px', alignItems: 'center' }}>
      {rows.map((r) => (
        <div role="listitem" key={r.name} style={{ display: 'contents' }}>
          <span className="mono small">{r.name}</span>
          <div className="progress" style={{ height: 8 }}>
            <div style={{ width: `${((r.value ?? 0) / max) * 100}%`, background: (r.value ?? 0) > 0 ? 'var(--chart-3)' : 'var(--chart-2)' }} />
          </div>
          <span className="num small">{r.value === null ? '—' : formatCompact(r.value)}</span>
        </div>
      ))}
    </div>
  );
}
