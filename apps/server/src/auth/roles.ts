export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * What a principal may do per connection: keys are connection ids or globs with `*`, values a
 * role or "none". The most specific key that matches wins (an exact id beats any glob; among
 * globs, the one with more literal characters), so `{ "*": "admin", "prod-*": "viewer" }` keeps
 * production read-only for that user.
 */
export type RoleGrants = Record<string, Role | 'none'>;

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export function atLeast(role: Role | null, needed: Role): boolean {
  return role !== null && RANK[role] >= RANK[needed];
}

function globMatches(glob: string, value: string): boolean {
  if (!glob.includes('*')) return glob === value;
  const parts = glob.split('*');
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i === 0) {
      if (!value.startsWith(part)) return false;
      at = part.length;
    } else if (i === parts.length - 1) {
      return value.length - part.length >= at && value.endsWith(part);
    } else {
      const found = value.indexOf(part, at);
      if (found < 0) return false;
      at = found + part.length;
    }
  }
  return true;
}

/** Glob match without regular expressions (patterns come from config, values from requests). */
export function matchesGlob(glob: string, value: string): boolean {
  return globMatches(glob, value);
}

function specificity(pattern: string): number {
  return pattern.includes('*') ? pattern.replaceAll('*', '').length : Number.MAX_SAFE_INTEGER;
}

/** The role `grants` give on `connectionId`, or null when none (or "none") applies. */
export function roleOn(grants: RoleGrants, connectionId: string): Role | null {
  let best: { score: number; role: Role | 'none' } | null = null;
  for (const [pattern, role] of Object.entries(grants)) {
    if (!globMatches(pattern, connectionId)) continue;
    const score = specificity(pattern);
    // Equal specificity: the lower grant wins, so an ambiguous config errs on the safe side.
    if (best === null || score > best.score || (score === best.score && rankOf(role) < rankOf(best.role))) best = { score, role };
  }
  return best === null || best.role === 'none' ? null : best.role;
}

function rankOf(role: Role | 'none'): number {
  return role === 'none' ? 0 : RANK[role];
}

/** Merges grants keeping the higher role per pattern (OIDC group mappings add up). */
export function mergeGrants(...all: RoleGrants[]): RoleGrants {
  const out: RoleGrants = {};
  for (const grants of all) {
    for (const [pattern, role] of Object.entries(grants)) {
      const current = out[pattern];
      if (current === undefined || rankOf(role) > rankOf(current)) out[pattern] = role;
    }
  }
  return out;
}
