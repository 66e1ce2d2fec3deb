/** Cookie header parsing and Set-Cookie values (no dependency: three functions). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!out.has(name)) out.set(name, value);
  }
  return out;
}

export interface CookieOptions {
  secure: boolean;
  sameSite: 'Strict' | 'Lax';
  path: string;
  maxAgeSeconds: number | null;
}

export function serializeCookie(name: string, value: string, o: CookieOptions): string {
  const parts = [`${name}=${value}`, `Path=${o.path}`, 'HttpOnly', `SameSite=${o.sameSite}`];
  if (o.secure) parts.push('Secure');
  if (o.maxAgeSeconds !== null) parts.push(`Max-Age=${o.maxAgeSeconds}`);
  return parts.join('; ');
}

/**
 * The session cookie's name: with Secure, the __Host- prefix makes browsers refuse it unless it
 * came over https from this exact host with Path=/ and no Domain (no sibling subdomain can plant one).
 */
export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-mailroom_session' : 'mailroom_session';
}
