import type { Request, Response } from 'express';
import type { RequestFacts } from './auth-service';
import { CSRF_HEADER, type HttpFacts } from '../security/guard';

export function requestFacts(req: Request): RequestFacts {
  return { cookieHeader: req.headers.cookie, remoteAddress: req.socket.remoteAddress, hostHeader: req.headers.host, secure: req.secure };
}

const header = (req: Request, name: string): string | null => {
  const v = req.headers[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? (v[0] ?? null) : null;
};

export function httpFacts(req: Request, res: Response): HttpFacts {
  return {
    request: requestFacts(req),
    origin: header(req, 'origin'),
    secFetchSite: header(req, 'sec-fetch-site'),
    csrfHeader: header(req, CSRF_HEADER),
    ownOrigin: `${req.protocol}://${req.headers.host ?? ''}`,
    ip: req.ip ?? req.socket.remoteAddress ?? null,
    setCookie(value) {
      res.append('set-cookie', value);
    },
  };
}
