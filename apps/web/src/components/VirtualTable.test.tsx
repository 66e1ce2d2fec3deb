import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { VirtualTable, type Column } from './VirtualTable';

interface Row { id: string; name: string }
const columns: Column<Row>[] = [
  { id: 'id', header: 'Id', width: '60px', render: (r) => r.id },
  { id: 'name', header: 'Name', width: '1fr', render: (r) => r.name },
];
const rows: Row[] = [{ id: '1', name: 'alpha' }, { id: '2', name: 'beta' }, { id: '3', name: 'gamma' }];

/** The roles of an element's owned elements, looking through generic (role-less) wrappers as ARIA does. */
function ownedRoles(el: Element): string[] {
  return [...el.children].flatMap((child) => {
    const role = child.getAttribute('role');
    return role === null ? ownedRoles(child) : [role];
  });
}

describe('VirtualTable', () => {
  it('is a valid grid: grid > row|rowgroup, rowgroup > row, row > columnheader|gridcell', () => {
    render(<VirtualTable label="Things" rows={rows} columns={columns} rowKey={(r) => r.id} height={300} footer={<button type="button">Load more</button>} />);
    const grid = screen.getByRole('grid', { name: 'Things' });
    expect(ownedRoles(grid)).toEqual(['row', 'rowgroup']);
    const body = within(grid).getByRole('rowgroup', { name: 'Things rows' });
    const bodyRows = ownedRoles(body);
    expect(bodyRows).toEqual(['row', 'row', 'row', 'row']); // 3 data rows + the footer row
    for (const row of grid.querySelectorAll('[role="row"]')) {
      const cells = ownedRoles(row);
      expect(cells.length).toBeGreaterThan(0);
      expect(cells.every((r) => r === 'gridcell' || r === 'columnheader')).toBe(true);
    }
    expect(grid.getAttribute('aria-rowcount')).toBe('5');
    expect(within(body).getAllByRole('gridcell').map((c) => c.textContent)).toEqual(['1', 'alpha', '2', 'beta', '3', 'gamma', 'Load more']);
  });

  it('has no footer row without a footer', () => {
    render(<VirtualTable label="Things" rows={rows} columns={columns} rowKey={(r) => r.id} height={300} />);
    const grid = screen.getByRole('grid', { name: 'Things' });
    expect(ownedRoles(screen.getByRole('rowgroup'))).toEqual(['row', 'row', 'row']);
    expect(grid.getAttribute('aria-rowcount')).toBe('4');
  });
});
