import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/** The inline <script> elements of an HTML page (those without src), as CSP 'sha256-…' sources. */
export function inlineScriptHashes(html: string): string[] {
  const hashes: string[] = [];
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    if (/\bsrc\s*=/i.test(m[1] ?? '')) continue;
    hashes.push(`'sha256-${createHash('sha256').update(m[2] ?? '', 'utf8').digest('base64')}'`);
  }
  return hashes;
}

/**
 * Scripts: 'self' plus the exact hashes of the SPA's inline scripts (read from the built
 * index.html at startup; its theme pre-paint script), so no other inline script can run.
 * Inline style attributes written by React go through the CSSOM, which CSP does not govern;
 * 'unsafe-inline' for styles covers libraries that add a <style> element.
 */
export function contentSecurityPolicy(scriptHashes: string[] = []): string {
  return [
    "default-src 'self'",
    ["script-src 'self'", ...scriptHashes].join(' '),
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Security headers on every response (hand-set: the list is short and fixed). */
export const securityHeaders = (csp: string) => (req: Request, res: Response, next: NextFunction): void => {
  res.setHeader('content-security-policy', csp);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  res.setHeader('cross-origin-resource-policy', 'same-origin');
  res.setHeader('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()');
  if (req.secure) res.setHeader('strict-transport-security', 'max-age=31536000');
  next();
};
