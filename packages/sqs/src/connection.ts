import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient, type QueueAttributeName, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { BrokerUnavailableError, ClientClosedError, NotFoundError } from '@mailroom/core';
import type { ResolvedSqsConfig } from './config';
import { mapSqsError } from './errors';
import { validateQueueName } from './names';

/** Options the SDK passes to the HTTP handler for one request. */
export interface RequestOptions {
  abortSignal: AbortSignal;
  requestTimeout: number;
}

export interface RunOptions {
  /** Caller's cancellation: the request is aborted and `Aborted` is thrown. */
  signal?: AbortSignal;
  /** Per-attempt request timeout; long polls pass wait + margin. */
  requestTimeoutMs?: number;
}

/** Thrown by `run` when the caller's signal aborted the request. */
export class Aborted extends Error {
  constructor() {
    super('aborted');
    this.name = 'Aborted';
  }
}

/** The adapter's one SQS client: deadlines, cancellation, error mapping and the queue URL cache. */
export class SqsConnection {
  readonly client: SQSClient;
  readonly endpointLabel: string;
  private closed = false;
  private readonly inFlight = new Set<AbortController>();
  private readonly urls = new Map<string, string>();

  constructor(readonly config: ResolvedSqsConfig) {
    const clientConfig: SQSClientConfig = {
      maxAttempts: config.maxAttempts,
      requestHandler: {
        connectionTimeout: config.connectTimeoutMs,
        requestTimeout: config.requestTimeoutMs,
        throwOnRequestTimeout: true,
      },
    };
    if (config.endpoint !== null) clientConfig.endpoint = config.endpoint;
    if (config.region !== null) clientConfig.region = config.region;
    if (config.credentials !== null) clientConfig.credentials = config.credentials;
    this.client = new SQSClient(clientConfig);
    this.endpointLabel = config.endpoint ?? `AWS SQS${config.region ? ` (${config.region})` : ''}`;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Runs one SDK call under an overall deadline (every attempt, backoff included), so an
   * unreachable endpoint fails with BrokerUnavailableError in seconds and never hangs.
   */
  async run<T>(what: string, call: (options: RequestOptions) => Promise<T>, options: RunOptions = {}): Promise<T> {
    if (this.closed) throw new ClientClosedError('SQS adapter');
    if (options.signal?.aborted) throw new Aborted();
    const requestTimeout = options.requestTimeoutMs ?? this.config.requestTimeoutMs;
    const overallMs = (requestTimeout + this.config.connectTimeoutMs) * this.config.maxAttempts + 1000;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, overallMs);
    const onCallerAbort = () => controller.abort();
    options.signal?.addEventListener('abort', onCallerAbort, { once: true });
    this.inFlight.add(controller);
    try {
      return await call({ abortSignal: controller.signal, requestTimeout });
    } catch (error) {
      if (this.closed) throw new ClientClosedError('SQS adapter');
      if (timedOut) {
        throw new BrokerUnavailableError(`SQS endpoint ${this.endpointLabel} did not answer ${what} within ${overallMs} ms`, {
          cause: error,
          hint: 'Check that the SQS endpoint is running and reachable from the server.',
        });
      }
      if (options.signal?.aborted) throw new Aborted();
      const mapped = mapSqsError(error, what, this.endpointLabel);
      if (mapped instanceof NotFoundError) this.forgetAll();
      throw mapped;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onCallerAbort);
      this.inFlight.delete(controller);
    }
  }

  /** The queue's URL; NotFoundError when it does not exist. */
  async queueUrl(name: string, signal?: AbortSignal): Promise<string> {
    validateQueueName(name);
    const cached = this.urls.get(name);
    if (cached !== undefined) return cached;
    try {
      const out = await this.run(`GetQueueUrl ${name}`, (o) => this.client.send(new GetQueueUrlCommand({ QueueName: name }), o), signal ? { signal } : {});
      if (!out.QueueUrl) throw new NotFoundError(`SQS queue ${name} does not exist`);
      this.urls.set(name, out.QueueUrl);
      return out.QueueUrl;
    } catch (error) {
      if (error instanceof NotFoundError) {
        throw new NotFoundError(`SQS queue ${JSON.stringify(name)} does not exist`, { cause: error, hint: 'Create the queue first or check its name.' });
      }
      throw error;
    }
  }

  rememberUrl(name: string, url: string): void {
    this.urls.set(name, url);
  }

  forget(name: string): void {
    this.urls.delete(name);
  }

  private forgetAll(): void {
    this.urls.clear();
  }

  async attributes(name: string, names: QueueAttributeName[] = ['All'], signal?: AbortSignal): Promise<Record<string, string>> {
    const url = await this.queueUrl(name, signal);
    const out = await this.run(
      `GetQueueAttributes ${name}`,
      (o) => this.client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: names }), o),
      signal ? { signal } : {},
    );
    return out.Attributes ?? {};
  }

  /** Aborts every request in flight and releases the HTTP sockets. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const controller of this.inFlight) controller.abort();
    this.inFlight.clear();
    this.client.destroy();
  }
}
