/** Turns a tRPC/network failure into what an operator can act on. Never shows a stack trace. */
export interface ErrorInfo {
  title: string;
  message: string;
  hint: string | null;
  code: string | null;
  /** The broker (not the request) is the problem: show the "broker down" state. */
  brokerDown: boolean;
  /** The server itself could not be reached. */
  serverDown: boolean;
}

interface TrpcLikeError {
  message?: unknown;
  data?: { code?: unknown; httpStatus?: unknown; hint?: unknown; mailroomCode?: unknown } | null;
  shape?: { message?: unknown } | null;
}

export function describeError(error: unknown): ErrorInfo {
  const e = (error ?? {}) as TrpcLikeError;
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : 'Something went wrong.';
  const code = typeof e.data?.code === 'string' ? e.data.code : null;
  const mailroomCode = typeof e.data?.mailroomCode === 'string' ? e.data.mailroomCode : null;
  const hint = typeof e.data?.hint === 'string' ? e.data.hint : null;
  if (code === null && /fetch|network|Failed to|NetworkError|ECONNREFUSED|Unexpected token/i.test(message)) {
    return { title: 'Mailroom server unreachable', message, hint: 'Check that the Mailroom server is running; this page retries on its own.', code: null, brokerDown: false, serverDown: true };
  }
  const brokerDown = mailroomCode === 'UNAVAILABLE' || code === 'SERVICE_UNAVAILABLE' || code === 'GATEWAY_TIMEOUT' || code === 'TIMEOUT';
  const title =
    brokerDown ? 'Broker unreachable'
    : code === 'NOT_FOUND' ? 'Not found'
    : code === 'FORBIDDEN' || code === 'UNAUTHORIZED' ? 'Not allowed'
    : code === 'BAD_REQUEST' ? 'Invalid request'
    : code === 'CONFLICT' ? 'Conflict'
    : code === 'PRECONDITION_FAILED' ? 'Not possible right now'
    : 'Request failed';
  return { title, message, hint, code, brokerDown, serverDown: false };
}
