import { TRPCError, type TRPC_ERROR_CODE_KEY } from '@trpc/server';
import { isMailroomError, type MailroomErrorCode } from '@mailroom/core';

/** How each core error code reaches the client. */
export const TRPC_CODE_FOR: Record<MailroomErrorCode, TRPC_ERROR_CODE_KEY> = {
  NOT_FOUND: 'NOT_FOUND',
  INVALID_INPUT: 'BAD_REQUEST',
  UNSUPPORTED: 'METHOD_NOT_SUPPORTED',
  CLOSED: 'PRECONDITION_FAILED',
  UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  CONFLICT: 'CONFLICT',
  TIMEOUT: 'TIMEOUT',
  FORBIDDEN: 'FORBIDDEN',
  TOO_LARGE: 'PAYLOAD_TOO_LARGE',
};

const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)[^/@\s:]+(?::[^/@\s]*)?@/gi;
const SECRET_PAIRS = /\b(password|passwd|secret|token|secretAccessKey|sessionToken|apiKey)(["']?\s*[:=]\s*["']?)[^\s"',;}]+/gi;

/** Removes credentials that an SDK might have echoed into an error message. */
export function redactSecrets(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1***@').replace(SECRET_PAIRS, '$1$2***');
}

/** Any thrown value as the TRPCError the client sees; the original stays as `cause` for the formatter. */
export function toTRPCError(error: unknown): TRPCError {
  if (error instanceof TRPCError) return error;
  if (isMailroomError(error)) {
    return new TRPCError({ code: TRPC_CODE_FOR[error.code], message: redactSecrets(error.message), cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: redactSecrets(message), cause: error instanceof Error ? error : undefined });
}
