import { BrokerUnavailableError, ForbiddenError, MailroomError, NotFoundError, RequestTimeoutError } from '@mailroom/core';
import type { ResolvedConfig } from './config';

export interface MgmtRate {
  rate?: number;
}

export interface MgmtMessageStats {
  publish?: number;
  publish_details?: MgmtRate;
  deliver_get?: number;
  deliver_get_details?: MgmtRate;
  ack?: number;
  ack_details?: MgmtRate;
  redeliver?: number;
  redeliver_details?: MgmtRate;
  publish_in_details?: MgmtRate;
  publish_out_details?: MgmtRate;
}

export interface MgmtQueue {
  name: string;
  vhost?: string;
  type?: string;
  durable?: boolean;
  auto_delete?: boolean;
  exclusive?: boolean;
  arguments?: Record<string, unknown>;
  policy?: string | null;
  operator_policy?: string | null;
  effective_policy_definition?: Record<string, unknown> | [];
  messages?: number;
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
  state?: string;
  head_message_timestamp?: number | null;
  message_stats?: MgmtMessageStats;
  consumer_details?: MgmtConsumer[];
}

export interface MgmtConsumer {
  consumer_tag: string;
  prefetch_count?: number;
  ack_required?: boolean;
  active?: boolean;
  channel_details?: { name?: string; connection_name?: string; peer_host?: string; peer_port?: number };
}

export interface MgmtExchange {
  name: string;
  type: string;
  durable?: boolean;
  auto_delete?: boolean;
  internal?: boolean;
  arguments?: Record<string, unknown>;
  policy?: string | null;
  message_stats?: MgmtMessageStats;
}

export interface MgmtBinding {
  source: string;
  destination: string;
  destination_type: 'queue' | 'exchange';
  routing_key: string;
  arguments?: Record<string, unknown>;
}

export interface MgmtPolicy {
  name: string;
  pattern: string;
  'apply-to': string;
  priority: number;
  definition: Record<string, unknown>;
}

export interface MgmtConnection {
  name: string;
  client_properties?: { connection_name?: string };
}

interface Paged<T> {
  items: T[];
  page: number;
  page_count: number;
  total_count: number;
  filtered_count: number;
}

const QUEUE_COLUMNS = [
  'name',
  'type',
  'durable',
  'auto_delete',
  'exclusive',
  'arguments',
  'policy',
  'effective_policy_definition',
  'messages',
  'messages_ready',
  'messages_unacknowledged',
  'consumers',
  'state',
  'head_message_timestamp',
  'message_stats.publish',
  'message_stats.publish_details.rate',
  'message_stats.deliver_get',
  'message_stats.deliver_get_details.rate',
  'message_stats.ack',
  'message_stats.ack_details.rate',
  'message_stats.redeliver',
  'message_stats.redeliver_details.rate',
].join(',');

const EXCHANGE_COLUMNS = ['name', 'type', 'durable', 'auto_delete', 'internal', 'arguments', 'policy', 'message_stats.publish_in_details.rate'].join(',');

/**
 * The management plugin's HTTP API: every request has basic auth and a timeout, and lists
 * are read page by page (`page`/`page_size`, `columns` to keep each page light) so thousands
 * of queues never arrive as one huge response.
 */
export class ManagementClient {
  private readonly auth: string;

  constructor(private readonly config: ResolvedConfig) {
    this.auth = 'Basic ' + Buffer.from(`${config.managementUser}:${config.managementPassword}`).toString('base64');
  }

  private vhostPath(): string {
    return encodeURIComponent(this.config.vhost);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.config.managementUrl}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { authorization: this.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(this.config.requestTimeoutMs),
      });
    } catch (error) {
      if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
        throw new RequestTimeoutError(`The RabbitMQ management API did not answer ${method} ${path} within ${this.config.requestTimeoutMs} ms`, { cause: error });
      }
      throw new BrokerUnavailableError(`The RabbitMQ management API at ${this.config.managementUrl} is unreachable`, {
        hint: 'Enable it with `rabbitmq-plugins enable rabbitmq_management` and check RABBITMQ_MANAGEMENT_URL.',
        cause: error,
      });
    }
    const text = await response.text();
    if (response.status === 401 || response.status === 403) {
      throw new ForbiddenError(`The RabbitMQ management API refused ${method} ${path} (${response.status})`, {
        hint: 'The user needs the "management" (or "monitoring"/"administrator") tag and permissions on the vhost.',
      });
    }
    if (response.status === 404) throw new NotFoundError(`Not found in RabbitMQ: ${method} ${decodeURIComponent(path)}`);
    if (!response.ok) {
      throw new MailroomError(response.status >= 500 ? 'UNAVAILABLE' : 'INVALID_INPUT', `RabbitMQ management API ${method} ${path} failed (${response.status}): ${text.slice(0, 300)}`);
    }
    if (text === '') return undefined as T;
    return JSON.parse(text) as T;
  }

  private async allPages<T>(path: string, query: string): Promise<T[]> {
    const out: T[] = [];
    const pageSize = this.config.managementPageSize;
    for (let page = 1; ; page++) {
      const result = await this.request<Paged<T>>('GET', `${path}?page=${page}&page_size=${pageSize}&${query}`);
      out.push(...result.items);
      if (page >= result.page_count || result.items.length === 0) break;
    }
    return out;
  }

  overview(): Promise<{ rabbitmq_version?: string; management_version?: string; product_name?: string }> {
    return this.request('GET', '/api/overview?columns=rabbitmq_version,management_version,product_name');
  }

  /** Every queue of the vhost, page by page. */
  queues(): Promise<MgmtQueue[]> {
    return this.allPages<MgmtQueue>(`/api/queues/${this.vhostPath()}`, `sort=name&columns=${QUEUE_COLUMNS}`);
  }

  queue(name: string): Promise<MgmtQueue> {
    return this.request('GET', `/api/queues/${this.vhostPath()}/${encodeURIComponent(name)}`);
  }

  exchanges(): Promise<MgmtExchange[]> {
    return this.allPages<MgmtExchange>(`/api/exchanges/${this.vhostPath()}`, `sort=name&columns=${EXCHANGE_COLUMNS}`);
  }

  exchange(name: string): Promise<MgmtExchange> {
    return this.request('GET', `/api/exchanges/${this.vhostPath()}/${encodeURIComponent(name)}`);
  }

  /** Bindings whose source is exchange `name` (the default exchange's implicit bindings are not listed). */
  bindingsFrom(exchange: string): Promise<MgmtBinding[]> {
    return this.request('GET', `/api/exchanges/${this.vhostPath()}/${encodeURIComponent(exchange)}/bindings/source`);
  }

  bindingsOf(queue: string): Promise<MgmtBinding[]> {
    return this.request('GET', `/api/queues/${this.vhostPath()}/${encodeURIComponent(queue)}/bindings`);
  }

  policies(): Promise<MgmtPolicy[]> {
    return this.request('GET', `/api/policies/${this.vhostPath()}`);
  }

  putPolicy(name: string, policy: Omit<MgmtPolicy, 'name'>): Promise<void> {
    return this.request('PUT', `/api/policies/${this.vhostPath()}/${encodeURIComponent(name)}`, policy);
  }

  deletePolicy(name: string): Promise<void> {
    return this.request('DELETE', `/api/policies/${this.vhostPath()}/${encodeURIComponent(name)}`);
  }

  connections(): Promise<MgmtConnection[]> {
    return this.request('GET', '/api/connections?columns=name,client_properties');
  }

  /** Closes a client connection by its management name (what the "Force close" button does). */
  closeConnection(name: string): Promise<void> {
    return this.request('DELETE', `/api/connections/${encodeURIComponent(name)}`);
  }
}
