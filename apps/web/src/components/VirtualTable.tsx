import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Icon } from './Icon';

export interface Column<T> {
  id: string;
  header: ReactNode;
  /** CSS grid track, e.g. 'minmax(200px, 2fr)' or '90px'. */
  width: string;
  render: (row: T) => ReactNode;
  align?: 'right';
  /** When set, the header is a sort button for this key. */
  sortKey?: string;
}

export interface SortState { key: string; dir: 'asc' | 'desc' }

interface Props<T> {
  label: string;
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  height: number | string;
  onActivate?: (row: T) => void;
  selectedKey?: string | null;
  sort?: SortState;
  onSort?: (sort: SortState) => void;
  /** Shown as the last row when more can be loaded (infinite scroll). */
  onEndReached?: () => void;
  footer?: ReactNode;
  rowHeight?: number;
  /** Tighter cell padding, for tables with many columns. */
  dense?: boolean;
}

/**
 * A table that renders only the rows in view: 10,000 rows cost the same as 30. Arrow keys move
 * the selection when the body has focus; Enter opens the selected row.
 */
export function VirtualTable<T>({ label, rows, columns, rowKey, height, onActivate, selectedKey, sort, onSort, onEndReached, footer, rowHeight = 34, dense = false }: Props<T>) {
  const bodyRef = useRef<HTMLDivElement>(null);
  const [active, setActive] = useState(0);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => bodyRef.current,
    estimateSize: () => rowHeight,
    overscan: 12,
    // jsdom and the first paint have no layout yet: assume a viewport so rows render at once.
    initialRect: { width: 1000, height: 600 },
  });
  const items = virtualizer.getVirtualItems();
  const last = items[items.length - 1];
  useEffect(() => {
    if (onEndReached !== undefined && last !== undefined && last.index >= rows.length - 5) onEndReached();
  }, [last?.index, rows.length, onEndReached, last]);

  const cols = columns.map((c) => c.width).join(' ');
  const onKeyDown = (e: React.KeyboardEvent) => {
    if (rows.length === 0) return;
    let next = active;
    if (e.key === 'ArrowDown' || e.key === 'j') next = Math.min(rows.length - 1, active + 1);
    else if (e.key === 'ArrowUp' || e.key === 'k') next = Math.max(0, active - 1);
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = rows.length - 1;
    else if (e.key === 'Enter') {
      const row = rows[active];
      if (row !== undefined) onActivate?.(row);
      return;
    } else return;
    e.preventDefault();
    setActive(next);
    virtualizer.scrollToIndex(next, { align: 'auto' });
  };

  return (
    <div className={dense ? 'vtable dense' : 'vtable'} role="grid" aria-label={label} aria-rowcount={rows.length + 1 + (footer !== undefined ? 1 : 0)} style={{ ['--cols' as string]: cols }}>
      <div className="vtable-head" role="row">
        {columns.map((c) => {
          const sorted = sort !== undefined && c.sortKey !== undefined && sort.key === c.sortKey;
          return (
            <div key={c.id} role="columnheader" aria-sort={sorted ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined} style={c.align === 'right' ? { textAlign: 'right' } : undefined}>
              {c.sortKey !== undefined && onSort !== undefined ? (
                <button
                  type="button"
                  className="sort-btn"
                  aria-pressed={sorted}
                  onClick={() => onSort({ key: c.sortKey!, dir: sorted && sort.dir === 'desc' ? 'asc' : 'desc' })}
                >
                  {c.header}
                  {sorted && <Icon name={sort.dir === 'asc' ? 'arrowUp' : 'arrowDown'} size={12} />}
                </button>
              ) : (
                c.header
              )}
            </div>
          );
        })}
      </div>
      <div ref={bodyRef} className="vtable-body" style={{ height }} tabIndex={0} onKeyDown={onKeyDown} role="rowgroup" aria-label={`${label} rows`}>
        {/* A generic spacer: ARIA looks through it, so the rows still belong to the rowgroup. */}
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {items.map((item) => {
            const row = rows[item.index]!;
            const key = rowKey(row);
            const selected = selectedKey === key;
            return (
              <div
                key={key}
                role="row"
                aria-rowindex={item.index + 2}
                aria-selected={selected}
                data-active={item.index === active || undefined}
                className={`vtable-row ${onActivate ? 'clickable' : ''}`}
                style={{ transform: `translateY(${item.start}px)`, height: rowHeight }}
                onClick={() => {
                  setActive(item.index);
                  onActivate?.(row);
                }}
              >
                {columns.map((c) => (
                  <div key={c.id} role="gridcell" className={c.align === 'right' ? 'num' : undefined}>
                    {c.render(row)}
                  </div>
                ))}
              </div>
            );
          })}
        </div>
        {footer !== undefined && (
          // A rowgroup may own only rows: the footer (e.g. a "load more" button) sits in a full-width row.
          <div role="row" aria-rowindex={rows.length + 2} className="vtable-footer">
            <div role="gridcell">{footer}</div>
          </div>
        )}
      </div>
    </div>
  );
}
