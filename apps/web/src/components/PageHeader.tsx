import type { ReactNode } from 'react';
import { Link } from 'wouter';

export function PageHeader({ crumbs, title, badges, actions, subtitle }: { crumbs: { label: string; href: string }[]; title: ReactNode; badges?: ReactNode; actions?: ReactNode; subtitle?: ReactNode }) {
  return (
    <div className="page-header">
      <div className="titles">
        <nav className="breadcrumbs" aria-label="Breadcrumb">
          {crumbs.map((c, i) => (
            <span key={`${i}:${c.href}`}>
              {i > 0 && <span aria-hidden="true"> / </span>}
              <Link href={c.href}>{c.label}</Link>
            </span>
          ))}
        </nav>
        <div className="title-row">
          <h1>{title}</h1>
          {badges}
        </div>
        {subtitle !== undefined && <div className="muted" style={{ marginTop: 2 }}>{subtitle}</div>}
      </div>
      {actions !== undefined && <div className="row wrap">{actions}</div>}
    </div>
  );
}
