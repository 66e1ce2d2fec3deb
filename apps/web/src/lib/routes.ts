/** Every view has a URL; these builders are the only place that knows the shapes. */
/**
 * Names are percent-encoded as they are: the server's SPA fallback serves every browser
 * navigation, so `orders.DLT` stays readable in a link.
 */
const enc = encodeURIComponent;

export type DestinationTab = 'messages' | 'tail' | 'consumers' | 'metrics' | 'config' | 'publish';

export const routes = {
  overview: () => '/',
  connection: (conn: string) => `/c/${enc(conn)}`,
  destinations: (conn: string) => `/c/${enc(conn)}/destinations`,
  destination: (conn: string, dest: string, tab: DestinationTab = 'messages') =>
    `/c/${enc(conn)}/d/${enc(dest)}${tab === 'messages' ? '' : `/${tab}`}`,
  message: (conn: string, dest: string, id: string, at?: { partition: number | null; position: string | null }) => {
    const q = new URLSearchParams();
    if (at?.partition !== null && at?.partition !== undefined) q.set('partition', String(at.partition));
    if (at?.position !== null && at?.position !== undefined) q.set('position', at.position);
    const qs = q.toString();
    return `/c/${enc(conn)}/d/${enc(dest)}/m/${enc(id)}${qs ? `?${qs}` : ''}`;
  },
  publish: (conn: string, dest?: string) => (dest === undefined ? `/c/${enc(conn)}/publish` : `/c/${enc(conn)}/d/${enc(dest)}/publish`),
  deadLetters: (conn: string, dlq?: string) => (dlq === undefined ? `/c/${enc(conn)}/dead-letters` : `/c/${enc(conn)}/dead-letters/${enc(dlq)}`),
  /** Fitness of every connection, or of one; `criterion` scrolls to its section. */
  fitness: (conn?: string, criterion?: string) => `${conn === undefined ? '/fitness' : `/c/${enc(conn)}/fitness`}${criterion === undefined ? '' : `#${criterion}`}`,
};

export function decodeParam(value: string | undefined): string {
  if (value === undefined) return '';
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
