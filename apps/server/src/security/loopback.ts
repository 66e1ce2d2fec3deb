import { isIPv4 } from 'node:net';

/** A listen address that only this machine can reach. */
export function isLoopbackBind(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || (isIPv4(h) && h.startsWith('127.'));
}

/** A peer address of a loopback connection (IPv4, IPv6 or IPv4-mapped IPv6). */
export function isLoopbackAddress(address: string | undefined | null): boolean {
  if (!address) return false;
  const a = address.toLowerCase();
  if (a === '::1') return true;
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return isIPv4(v4) && v4.startsWith('127.');
}

/**
 * A Host header naming this machine. Checked for anonymous access so a DNS-rebinding page
 * (attacker.example resolving to 127.0.0.1) cannot act as the local user.
 */
export function isLoopbackHostHeader(host: string | undefined | null): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return isLoopbackBind(name);
}
