// Cognito and STS as strict as AWS, for the three ways a browser gets credentials from an
// identity pool:
//  - enhanced flow, guest: GetId -> GetCredentialsForIdentity. AWS scopes these credentials
//    down with AmazonCognitoUnAuthedIdentitiesSessionPolicy (no kinesis:*), so PutRecords
//    is AccessDeniedException whatever the role allows (iam.mjs COGNITO_UNAUTHED_SESSION_POLICY);
//  - classic (basic) flow, guest: GetId -> GetOpenIdToken -> STS AssumeRoleWithWebIdentity
//    (unsigned, form-encoded POST, XML answer). Only for pools with AllowClassicFlow, only
//    tokens this Cognito issued, only roles whose trust policy takes them (aud = the pool,
//    amr = unauthenticated); the credentials are scoped by the role alone;
//  - enhanced flow, signed in: GetId and GetCredentialsForIdentity with Logins (a user pool
//    ID token): the pool's authenticated role, not scoped down.
// Sources: Amazon Cognito Developer Guide, "Identity pools (federated identities)
// authentication flow"; Cognito Identity API reference (GetId, GetOpenIdToken,
// GetCredentialsForIdentity); STS API reference (AssumeRoleWithWebIdentity, its XML answer
// and errors); aws-rum-web's BasicAuthentication, which runs the classic flow in browsers.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { REGION, ROLES, COGNITO_UNAUTHED_SESSION_POLICY, roleByArn } from './iam.mjs';

export const IDENTITY_POOL_ID = `${REGION}:00000000-0000-4000-8000-0000000b0b00`;
/** A pool with the classic flow off (the default for new pools): only the enhanced flow works. */
export const ENHANCED_ONLY_POOL_ID = `${REGION}:00000000-0000-4000-8000-0000000e0e00`;
/** The Cognito user pool signed-in users come from, and its Logins key. */
export const USER_POOL_ID = `${REGION}_LocalUsers`;
export const USER_POOL_CLIENT_ID = 'localstackclient00000000000';
export const USER_POOL_PROVIDER = `cognito-idp.${REGION}.amazonaws.com/${USER_POOL_ID}`;
const OPENID_ISSUER = 'https://cognito-identity.amazonaws.com';
/** Cognito's OpenID tokens from GetOpenIdToken last 10 minutes. */
const OPENID_TOKEN_SECONDS = 600;

const POOLS = {
  [IDENTITY_POOL_ID]: { allowClassicFlow: true, roles: { unauthenticated: ROLES.guest.arn, authenticated: ROLES.user.arn } },
  [ENHANCED_ONLY_POOL_ID]: { allowClassicFlow: false, roles: { unauthenticated: ROLES.guest.arn, authenticated: ROLES.user.arn } },
};

export class AwsFault extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

const b64url = (b) => Buffer.from(b).toString('base64url');

/** HS256 JWTs: real Cognito signs with RS256 keys; here only this stack ever checks them. */
class Jwt {
  constructor() {
    this.key = randomBytes(32);
  }

  sign(claims) {
    const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'local' }));
    const body = b64url(JSON.stringify(claims));
    const sig = createHmac('sha256', this.key).update(`${head}.${body}`).digest('base64url');
    return `${head}.${body}.${sig}`;
  }

  /** The claims of a token this stack signed, or null. */
  verify(token) {
    const parts = typeof token === 'string' ? token.split('.') : [];
    if (parts.length !== 3) return null;
    const want = createHmac('sha256', this.key).update(`${parts[0]}.${parts[1]}`).digest();
    const got = Buffer.from(parts[2], 'base64url');
    if (got.length !== want.length || !timingSafeEqual(got, want)) return null;
    try {
      return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      return null;
    }
  }
}

const xmlEscape = (s) => String(s).replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

export class Cognito {
  constructor({ sts, now = () => Date.now() }) {
    this.sts = sts;
    this.now = now;
    this.jwt = new Jwt();
    /** identity id -> { pool, login: null | "provider:sub" } */
    this.identities = new Map();
    /** "pool|provider:sub" -> identity id: a signed-in user keeps one identity. */
    this.byLogin = new Map();
    this.counters = { getId: 0, getCredentialsForIdentity: 0, getOpenIdToken: 0, assumeRoleWithWebIdentity: 0 };
  }

  /** An ID token of the local user pool for `user` (what a sign-in with Amplify Auth yields). */
  userIdToken(user, ttlSeconds = 3600) {
    const now = Math.floor(this.now() / 1000);
    return this.jwt.sign({
      iss: `https://${USER_POOL_PROVIDER}`, aud: USER_POOL_CLIENT_ID, token_use: 'id',
      sub: `local-${user}`, 'cognito:username': user, iat: now, exp: now + ttlSeconds,
    });
  }

  pool(id) {
    const p = POOLS[id];
    if (!p) throw new AwsFault(400, 'ResourceNotFoundException', `IdentityPool '${id}' not found.`);
    return p;
  }

  /** The one login of a Logins map, checked: "provider:sub", or null when there is none. */
  login(logins) {
    if (logins === undefined || logins === null) return null;
    const entries = typeof logins === 'object' ? Object.entries(logins) : [];
    if (entries.length === 0) return null;
    const [provider, token] = entries[0];
    if (provider !== USER_POOL_PROVIDER || entries.length > 1) {
      throw new AwsFault(400, 'NotAuthorizedException', `Invalid login token. Issuer doesn't match providerName`);
    }
    const claims = this.jwt.verify(token);
    if (!claims || claims.iss !== `https://${USER_POOL_PROVIDER}` || claims.aud !== USER_POOL_CLIENT_ID || claims.token_use !== 'id') {
      throw new AwsFault(400, 'NotAuthorizedException', 'Invalid login token. Not a valid OpenId Connect identity token.');
    }
    if (claims.exp * 1000 <= this.now()) {
      throw new AwsFault(400, 'NotAuthorizedException', 'Invalid login token. Token expired: 1 >= 0');
    }
    return `${provider}:${claims.sub}`;
  }

  identity(id, logins) {
    const identity = this.identities.get(id);
    if (!identity) throw new AwsFault(400, 'ResourceNotFoundException', `Identity '${id}' not found.`);
    const login = this.login(logins);
    if (identity.login && login !== identity.login) {
      throw new AwsFault(400, 'NotAuthorizedException', 'Logins don\'t match. Please include at least one valid login for this identity or identity pool.');
    }
    if (!identity.login && login) {
      throw new AwsFault(400, 'NotAuthorizedException', `Access to Identity '${id}' is forbidden.`);
    }
    return identity;
  }

  /** The Cognito Identity JSON operations (X-Amz-Target AWSCognitoIdentityService.<op>). */
  call(operation, input) {
    if (operation === 'GetId') {
      this.counters.getId++;
      this.pool(input.IdentityPoolId);
      const login = this.login(input.Logins);
      const key = login && `${input.IdentityPoolId}|${login}`;
      if (key && this.byLogin.has(key)) return { IdentityId: this.byLogin.get(key) };
      const id = `${REGION}:${randomUUID()}`;
      this.identities.set(id, { pool: input.IdentityPoolId, login });
      if (key) this.byLogin.set(key, id);
      return { IdentityId: id };
    }
    if (operation === 'GetCredentialsForIdentity') {
      this.counters.getCredentialsForIdentity++;
      const identity = this.identity(input.IdentityId, input.Logins);
      // Enhanced flow: guests get the unauthenticated role scoped down by AWS's session
      // policy (no kinesis:*); signed-in users get the authenticated role as it is.
      const c = identity.login
        ? this.sts.assumeRole({ role: 'user', sessionName: 'CognitoIdentityCredentials', durationSeconds: 3600 })
        : this.sts.assumeRole({ role: 'guest', sessionName: 'CognitoIdentityCredentials', policy: COGNITO_UNAUTHED_SESSION_POLICY, durationSeconds: 3600 });
      return {
        IdentityId: input.IdentityId,
        Credentials: { AccessKeyId: c.AccessKeyId, SecretKey: c.SecretAccessKey, SessionToken: c.SessionToken, Expiration: Date.parse(c.Expiration) / 1000 },
      };
    }
    if (operation === 'GetOpenIdToken') {
      this.counters.getOpenIdToken++;
      const identity = this.identity(input.IdentityId, input.Logins);
      if (!this.pool(identity.pool).allowClassicFlow) {
        throw new AwsFault(400, 'InvalidParameterException', 'Basic (classic) flow is not enabled, please use enhanced flow.');
      }
      const now = Math.floor(this.now() / 1000);
      const amr = identity.login ? ['authenticated', USER_POOL_PROVIDER, `${identity.login}`] : ['unauthenticated'];
      const Token = this.jwt.sign({ iss: OPENID_ISSUER, aud: identity.pool, sub: input.IdentityId, amr, iat: now, exp: now + OPENID_TOKEN_SECONDS });
      return { IdentityId: input.IdentityId, Token };
    }
    throw new AwsFault(400, 'UnknownOperationException', `unknown operation ${operation}`);
  }

  /**
   * STS AssumeRoleWithWebIdentity (Action=...&Version=2011-06-15, form-encoded, unsigned):
   * the answer as STS's XML. Trust is checked as the template's trust policy says:
   * Federated cognito-identity.amazonaws.com, aud = an identity pool whose role it is, amr.
   */
  assumeRoleWithWebIdentity(form) {
    this.counters.assumeRoleWithWebIdentity++;
    if (form.get('Action') !== 'AssumeRoleWithWebIdentity' || form.get('Version') !== '2011-06-15') {
      throw new AwsFault(400, 'InvalidAction', `Could not find operation ${form.get('Action')} for version ${form.get('Version')}`);
    }
    const name = form.get('RoleSessionName') || '';
    if (!/^[\w+=,.@-]{2,64}$/.test(name)) {
      throw new AwsFault(400, 'ValidationError', `1 validation error detected: Value '${name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`);
    }
    const claims = this.jwt.verify(form.get('WebIdentityToken'));
    if (!claims || claims.iss !== OPENID_ISSUER) {
      throw new AwsFault(400, 'InvalidIdentityToken', 'Couldn\'t retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements');
    }
    if (claims.exp * 1000 <= this.now()) {
      throw new AwsFault(400, 'ExpiredTokenException', 'The web identity token that was passed is expired or is not valid. Get a new identity token from the identity provider and then retry the request.');
    }
    const arn = form.get('RoleArn') || '';
    const role = roleByArn(arn);
    const r = role && ROLES[role];
    const pool = POOLS[claims.aud];
    const trusted = r?.trust && pool && Object.values(pool.roles).includes(arn)
      && Array.isArray(claims.amr) && claims.amr.includes(r.trust.amr);
    if (!trusted) throw new AwsFault(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    const duration = Number(form.get('DurationSeconds') || 3600);
    if (!(duration >= 900 && duration <= r.maxSessionSeconds)) {
      throw new AwsFault(400, 'ValidationError', `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`);
    }
    // Scoped by the role alone: no session policy.
    const c = this.sts.assumeRole({ role, sessionName: name, durationSeconds: duration });
    return `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Audience>${xmlEscape(claims.aud)}</Audience>
    <AssumedRoleUser>
      <AssumedRoleId>AROALOCAL${role.toUpperCase()}:${xmlEscape(name)}</AssumedRoleId>
      <Arn>arn:aws:sts::000000000000:assumed-role/${xmlEscape(arn.split('/').pop())}/${xmlEscape(name)}</Arn>
    </AssumedRoleUser>
    <Provider>cognito-identity.amazonaws.com</Provider>
    <Credentials>
      <AccessKeyId>${c.AccessKeyId}</AccessKeyId>
      <SecretAccessKey>${xmlEscape(c.SecretAccessKey)}</SecretAccessKey>
      <SessionToken>${xmlEscape(c.SessionToken)}</SessionToken>
      <Expiration>${c.Expiration}</Expiration>
    </Credentials>
    <SubjectFromWebIdentityToken>${xmlEscape(claims.sub)}</SubjectFromWebIdentityToken>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>
`;
  }
}

/** STS's XML error answer. */
export function stsErrorXml(fault) {
  const type = fault.status >= 500 ? 'Receiver' : 'Sender';
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>${type}</Type><Code>${xmlEscape(fault.type)}</Code><Message>${xmlEscape(fault.message)}</Message></Error>
  <RequestId>${randomUUID()}</RequestId>
</ErrorResponse>
`;
}
