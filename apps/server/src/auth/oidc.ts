import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import type { OidcConfig } from '../security/config';
import { isLoopbackBind } from '../security/loopback';
import { mergeGrants, type RoleGrants } from './roles';

interface PendingFlow {
  verifier: string;
  nonce: string;
  returnTo: string;
  createdAt: number;
}

const FLOW_TTL_MS = 10 * 60_000;
const MAX_PENDING = 1_000;

/** Only local paths: never an absolute or protocol-relative URL (no open redirect). */
export function safeReturnTo(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(value) && value.length <= 500 ? value : '/';
}

export class OidcError extends Error {}

/**
 * OpenID Connect sign-in (authorization code flow with PKCE, state and nonce) through
 * openid-client. The provider's metadata is discovered on first use, so a provider that is down
 * at startup does not stop the server.
 */
export class OidcSignIn {
  private config: Promise<client.Configuration> | null = null;
  private readonly pending = new Map<string, PendingFlow>();

  constructor(readonly settings: OidcConfig) {}

  private configuration(): Promise<client.Configuration> {
    if (this.config === null) {
      const issuer = new URL(this.settings.issuer);
      // Plain http only for a provider on this machine (tests, a local Keycloak).
      const insecure = issuer.protocol === 'http:' && isLoopbackBind(issuer.hostname);
      const auth = this.settings.clientSecret ? client.ClientSecretBasic(this.settings.clientSecret) : client.None();
      this.config = client
        .discovery(issuer, this.settings.clientId, undefined, auth, insecure ? { execute: [client.allowInsecureRequests] } : undefined)
        .catch((error: unknown) => {
          this.config = null;
          throw new OidcError(`the OpenID provider ${this.settings.issuer} could not be reached: ${error instanceof Error ? error.message : String(error)}`);
        });
    }
    return this.config;
  }

  /** The provider URL to send the browser to, and the state to bind to the browser (cookie). */
  async start(returnTo: string): Promise<{ url: string; state: string }> {
    const config = await this.configuration();
    const now = Date.now();
    for (const [state, flow] of this.pending) if (now - flow.createdAt > FLOW_TTL_MS) this.pending.delete(state);
    while (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    this.pending.set(state, { verifier, nonce, returnTo: safeReturnTo(returnTo), createdAt: now });
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUri,
      scope: this.settings.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, state };
  }

  /**
   * Completes the flow: the state in the callback must be the one bound to this browser, then
   * the code is exchanged (PKCE verifier, nonce and ID token checked by openid-client).
   */
  async finish(query: URLSearchParams, browserState: string | null): Promise<{ user: string; grants: RoleGrants; returnTo: string }> {
    const state = query.get('state');
    if (!state || !browserState || state !== browserState) throw new OidcError('the sign-in response does not belong to this browser (state mismatch); start again');
    const flow = this.pending.get(state);
    this.pending.delete(state);
    if (!flow || Date.now() - flow.createdAt > FLOW_TTL_MS) throw new OidcError('the sign-in took too long or was already used; start again');
    const error = query.get('error');
    if (error) throw new OidcError(`the provider refused: ${error}${query.get('error_description') ? ` (${query.get('error_description')})` : ''}`);
    const config = await this.configuration();
    const callback = new URL(this.settings.redirectUri);
    callback.search = query.toString();
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: flow.verifier, expectedState: state, expectedNonce: flow.nonce, idTokenExpected: true });
    const idClaims = tokens.claims();
    if (!idClaims) throw new OidcError('the provider sent no ID token');
    let claims: Record<string, unknown> = { ...idClaims };
    const { usernameClaim, rolesClaim } = this.settings;
    if (claims[rolesClaim] === undefined || claims[usernameClaim] === undefined) {
      const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      claims = { ...info, ...claims };
    }
    const user = [claims[usernameClaim], claims.email, claims.sub].find((v): v is string => typeof v === 'string' && v !== '');
    if (!user) throw new OidcError('the ID token names no user');
    const raw = claims[rolesClaim];
    const values = Array.isArray(raw) ? raw.filter((v): v is string => typeof v === 'string') : typeof raw === 'string' ? [raw] : [];
    const grants = mergeGrants(this.settings.defaultRoles, ...values.map((v) => (Object.prototype.hasOwnProperty.call(this.settings.roleMapping, v) ? this.settings.roleMapping[v]! : {})));
    return { user: user.slice(0, 200), grants, returnTo: flow.returnTo };
  }
}

export const OIDC_STATE_COOKIE = 'mailroom_oidc';
export const randomId = () => randomBytes(16).toString('hex');
