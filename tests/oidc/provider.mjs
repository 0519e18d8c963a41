// A real, certified OpenID provider (panva/oidc-provider) dressed as Pro Santé Connect,
// for Cordée's end-to-end login tests. Started by tests/e2e/oidc.rs as a child process.
//
// Environment:
//   REDIRECT_URI   the gateway's callback (registered for both clients)
//   CLIENT_ID, CLIENT_SECRET, TOKEN_AUTH (client_secret_basic | client_secret_post)
//   USERINFO_JWT=1 userinfo answered as a signed JWT (application/jwt)
//   ROTATE_KEY=1   ID tokens are signed with a second key that appears in the JWKS only
//                  once the first such token was issued (a key rotation the relying
//                  party learns about from an unknown `kid`)
//   EVIL_MODE      see `tamper` below; empty for a compliant provider
//
// Prints one JSON line {"issuer": "..."} on stdout once it listens.
//
// Logins are automatic: the interaction endpoint logs in the account named by
// `login_hint` and consents to what was asked. Accounts: `nurse` (PSC-shaped
// infirmière), `gp` (the shared PSC sample), `noprofession`; a `-noacr` or `-lowacr`
// suffix logs in without `acr` or with a lower one (a compliant provider may do that).

import http from 'node:http';
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const env = process.env;
const redirectUri = env.REDIRECT_URI;
const clientId = env.CLIENT_ID ?? 'cordee';
const clientSecret = env.CLIENT_SECRET ?? 'cordee-test-secret-cordee-test-secret';
const tokenAuth = env.TOKEN_AUTH ?? 'client_secret_basic';
const userinfoJwt = env.USERINFO_JWT === '1';
const evil = env.EVIL_MODE ?? '';
const rotateKey = env.ROTATE_KEY === '1';
let rotated = false;
if (!redirectUri) {
  console.error('REDIRECT_URI is required');
  process.exit(2);
}

const sample = JSON.parse(readFileSync(new URL('./psc-userinfo-sample.json', import.meta.url), 'utf8'));

function claimsFor(accountId) {
  const base = accountId.replace(/-(noacr|lowacr)$/, '');
  const claims = structuredClone(sample);
  delete claims.sub;
  if (base === 'nurse') {
    claims.SubjectNameID = '810101010109';
    claims.preferred_username = '810101010109';
    claims.given_name = 'INES';
    claims.family_name = 'TESTEUR';
    claims.SubjectRole = ['60^1.2.250.1.213.1.1.5.5'];
    claims.otherIds = [{ identifiant: '10101010109', origine: 'RPPS', qualite: 1 }];
    const ex = claims.SubjectRefPro.exercices[0];
    Object.assign(ex, { codeProfession: '60', codeTypeSavoirFaire: '', codeSavoirFaire: '', prenomDexercice: 'INES', nomDexercice: 'TESTEUR' });
  } else if (base === 'noprofession') {
    claims.SubjectNameID = '810101010117';
    claims.SubjectRefPro.exercices = [];
    delete claims.SubjectRole;
  }
  return claims;
}

// The provider's signing key, and a rogue one for the evil modes.
const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const { privateKey: roguePrivate } = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
const { privateKey: nextPrivate, publicKey: nextPublic } = await jose.generateKeyPair('RS256', { extractable: true });
const nextJwk = { ...(await jose.exportJWK(nextPublic)), kid: 'test-key-2', alg: 'RS256', use: 'sig' };

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
const gatewayHome = `${new URL(redirectUri).origin}/`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [gatewayHome],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: tokenAuth,
      id_token_signed_response_alg: 'RS256',
      ...(userinfoJwt ? { userinfo_signed_response_alg: 'RS256' } : {}),
    },
    {
      // Another relying party of the same provider, for the foreign-code test.
      client_id: 'other-client',
      client_secret: 'other-client-secret-other-client-secret',
      redirect_uris: [redirectUri],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [signingJwk] },
  acrValues: ['eidas1', 'eidas-low'],
  scopes: ['openid', 'scope_all'],
  claims: {
    openid: ['sub'],
    scope_all: [
      'SubjectNameID', 'SubjectRefPro', 'SubjectRole', 'SubjectOrganization', 'SubjectOrganizationID',
      'Secteur_Activite', 'authMode', 'otherIds', 'preferred_username', 'given_name', 'family_name',
      'email_verified',
    ],
  },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
    jwtUserinfo: { enabled: true },
  },
  pkce: { required: () => true },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['cordee-test-cookie-key-0123456789'] },
  async findAccount(_ctx, id) {
    return { accountId: id, async claims() { return { sub: id, ...claimsFor(id) }; } };
  },
});

provider.use(async (ctx, next) => {
  // PSC serves discovery at a non-standard path; so does this provider.
  if (ctx.path === '/.well-known/wallet-openid-configuration') {
    ctx.path = '/.well-known/openid-configuration';
  }
  const interaction = ctx.method === 'GET' && ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (interaction) {
    await finishInteraction(ctx);
    return;
  }
  await next();
  if (rotateKey && ctx.path === '/jwks' && rotated && ctx.body && Array.isArray(ctx.body.keys)) {
    ctx.body = { keys: [...ctx.body.keys, nextJwk] };
  }
  if (rotateKey && ctx.path === '/token' && ctx.body && typeof ctx.body === 'object' && ctx.body.id_token) {
    const [, p] = ctx.body.id_token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url'));
    rotated = true;
    ctx.body = {
      ...ctx.body,
      id_token: await new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'test-key-2' }).sign(nextPrivate),
    };
  }
  if (evil && ctx.path === '/token' && ctx.body && typeof ctx.body === 'object' && ctx.body.id_token) {
    ctx.body = { ...ctx.body, id_token: await tamper(ctx.body.id_token) };
  }
});

async function finishInteraction(ctx) {
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params, session } = details;
  let result;
  if (prompt.name === 'login') {
    const hint = params.login_hint || 'nurse';
    const acr = hint.endsWith('-noacr') ? undefined : hint.endsWith('-lowacr') ? 'eidas-low' : 'eidas1';
    result = { login: { accountId: hint, ...(acr ? { acr } : {}) } };
  } else {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    result = { consent: { grantId: await grant.save() } };
  }
  const url = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(url);
}

// ---------------------------------------------------------------------------------
// EVIL MODE. Everything below makes this provider misbehave on purpose, in ways a
// compliant provider never would, to check that the relying party refuses. The ID
// token of the real token response is altered (and, where the attack needs a valid
// signature, re-signed with the provider's own key).
// ---------------------------------------------------------------------------------
const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');

async function tamper(idToken) {
  const [h, p, s] = idToken.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const payload = JSON.parse(Buffer.from(p, 'base64url'));
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims, key = privateKey, hdr = header) => new jose.SignJWT(claims).setProtectedHeader(hdr).sign(key);
  switch (evil) {
    case 'wrong_nonce': return sign({ ...payload, nonce: 'a-nonce-from-another-login' });
    case 'wrong_issuer': return sign({ ...payload, iss: 'https://evil.example' });
    case 'wrong_audience': return sign({ ...payload, aud: 'another-client' });
    case 'extra_audience': return sign({ ...payload, aud: [clientId, 'another-client'] });
    case 'expired': return sign({ ...payload, iat: now - 3600, exp: now - 1800 });
    case 'bad_signature': {
      const sig = Buffer.from(s, 'base64url');
      sig[0] ^= 0x01;
      return `${h}.${p}.${sig.toString('base64url')}`;
    }
    case 'alg_none': return `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`;
    case 'foreign_key': return sign(payload, roguePrivate, { alg: 'RS256', kid: 'rogue-key' });
    case 'forged_same_kid': return sign(payload, roguePrivate, header);
    case 'hs256_client_secret':
      return new jose.SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid: header.kid })
        .sign(new TextEncoder().encode(clientSecret));
    default: throw new Error(`unknown EVIL_MODE ${evil}`);
  }
}

server.on('request', provider.callback());
process.on('SIGTERM', () => process.exit(0));
process.stdout.write(`${JSON.stringify({ issuer })}\n`);
