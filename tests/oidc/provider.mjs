// A real OpenID Connect provider for the tests (npm's oidc-provider, a certified implementation),
// on the loopback. It stands in for NHS CIS2 and for Microsoft Entra ID: real authorisation code
// flow, real signed ID tokens, private_key_jwt or client secret authentication of the service,
// and back-channel logout.
//
//   node tests/oidc/provider.mjs CONFIG.json
//
// CONFIG holds: port, issuer, jwks (the provider's private signing keys), clients (client
// metadata as the provider registers it), accounts ({sub: {email, name}}) and idTokenTtl
// (seconds). It prints "listening <issuer>" once it answers.
//
// Its sign-in page (/interaction/<uid>) asks for the account's `sub` and how the person
// authenticated: an "assurance" (CIS2's authentication_assurance_level claim, left out when
// blank) and "amr" (Entra ID's authentication methods, comma separated, left out when blank).
//
// For the refusal tests, POST /test-only/next-id-token with `fault` set makes the token endpoint's
// next answer carry a spoiled ID token (the route is the tests' own: this provider stands in for
// CIS2 and Entra ID, which have none). A fault applies once, then the tokens are honest again;
// posting no fault clears one that was not used. The faults:
//   audience     `aud` another service's, `azp` still the caller's (so that only the audience
//                check can refuse it), signed again with the provider's own key
//   expired      `iat` an hour and a half ago, `exp` half an hour ago, signed with the provider's key
//   foreign-key  claims and header (the provider's key id) unchanged, signed with a key that is not
//                in the provider's JWKS
//   altered      `sub` changed after signing: the provider's signature no longer matches

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { URLSearchParams } from 'node:url';

import Provider from 'oidc-provider';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
// How each account last authenticated: {sub: {assurance, amr}}.
const lastSignIn = new Map();

// The spoiled ID token the token endpoint's next answer carries, if any (see above).
let nextFault = '';
const FAULTS = new Set(['audience', 'expired', 'foreign-key', 'altered']);
const providerKey = crypto.createPrivateKey({ key: config.jwks.keys[0], format: 'jwk' });
const foreignKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

const b64url = (data) => Buffer.from(data).toString('base64url');
const readPart = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

// RS256 (the provider's signing algorithm here) over the token's header and claims.
function signed(header, claims, key) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(crypto.sign('sha256', Buffer.from(input), key))}`;
}

function spoil(idToken, fault) {
  const [headPart, claimsPart, signature] = idToken.split('.');
  const header = readPart(headPart);
  const claims = readPart(claimsPart);
  if (header.alg !== 'RS256') throw new Error(`cannot sign again with ${header.alg}`);
  const now = Math.floor(Date.now() / 1000);
  switch (fault) {
    case 'audience':
      return signed(header, { ...claims, aud: 'other-service', azp: claims.aud }, providerKey);
    case 'expired':
      return signed(header, { ...claims, iat: now - 5400, exp: now - 1800 }, providerKey);
    case 'foreign-key':
      return signed(header, claims, foreignKey);
    case 'altered':
      return `${headPart}.${b64url(JSON.stringify({ ...claims, sub: 'someone-else' }))}.${signature}`;
    default:
      throw new Error(`unknown fault ${fault}`);
  }
}

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: config.jwks,
  cookies: { keys: ['test-provider-cookie-key-not-secret'] },
  // The service under test is on the loopback, which oidc-provider's protection against server
  // side request forgery refuses to call (our JWKS, back-channel logout): let it, here only.
  fetch: (url, options) => {
    const { dispatcher, ...rest } = options;
    return globalThis.fetch(url, rest);
  },
  clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
  claims: {
    // Each kind's record of how the person authenticated rides in the ID token.
    openid: ['sub', 'amr', 'authentication_assurance_level'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // ID tokens carry the claims themselves, as CIS2's and Entra's do.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  ttl: {
    IdToken: config.idTokenTtl || 3600,
  },
  interactions: {
    url: (ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  async findAccount(ctx, sub) {
    const account = config.accounts[sub] || { email: `${sub}@unknown.example`, name: sub };
    return {
      accountId: sub,
      async claims() {
        const facts = lastSignIn.get(sub) || {};
        const claims = { sub, email: account.email, email_verified: true, name: account.name };
        if (facts.assurance) claims.authentication_assurance_level = facts.assurance;
        return claims;
      },
    };
  },
});
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/token' && nextFault && ctx.status === 200 && ctx.body?.id_token) {
    ctx.body = { ...ctx.body, id_token: spoil(ctx.body.id_token, nextFault) };
    process.stderr.write(`test fault: ${nextFault}\n`);
    nextFault = '';
  }
});

// Why a request was refused, for the log file the tests keep beside the provider.
for (const event of ['grant.error', 'server_error', 'backchannel.error', 'authorization.error', 'end_session.error']) {
  provider.on(event, (ctx, error) => {
    const causes = [];
    for (let cause = error; cause; cause = cause.cause) {
      causes.push(cause.code || cause.message || String(cause));
    }
    process.stderr.write(`${event}: ${error.error_description || ''} ${causes.join(' <- ')}\n`);
  });
}
provider.on('backchannel.success', (client) => {
  process.stderr.write(`backchannel.success: ${client.clientId}\n`);
});

function readBody(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!DOCTYPE html><html lang="en"><head><title>Test identity provider</title></head>
<body><h1>Test identity provider: sign in</h1>
<form method="post" action="/interaction/${escapeHtml(uid)}">
<label for="sub">Account</label><input id="sub" name="sub">
<label for="assurance">Assurance level</label><input id="assurance" name="assurance">
<label for="amr">Authentication methods</label><input id="amr" name="amr">
<button type="submit">Sign in</button>
</form></body></html>`);
    return;
  }
  const form = await readBody(req);
  const sub = form.get('sub');
  const amr = (form.get('amr') || '').split(',').map((m) => m.trim()).filter(Boolean);
  lastSignIn.set(sub, { assurance: form.get('assurance') || '' });
  const grant = new provider.Grant({ accountId: sub, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  const login = { accountId: sub };
  if (amr.length) login.amr = amr;
  await provider.interactionFinished(req, res, { login, consent: { grantId } }, {
    mergeWithLastSubmission: false,
  });
}

async function setFault(req, res) {
  const fault = (await readBody(req)).get('fault') || '';
  if (fault && !FAULTS.has(fault)) {
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(`unknown fault ${fault}`);
    return;
  }
  nextFault = fault;
  res.writeHead(204);
  res.end();
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  if (req.method === 'POST' && req.url === '/test-only/next-id-token') {
    await setFault(req, res);
    return;
  }
  const match = req.url.match(/^\/interaction\/([^/?]+)/);
  if (!match) {
    callback(req, res);
    return;
  }
  try {
    await interaction(req, res, match[1]);
  } catch (error) {
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(String(error));
  }
});
server.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`listening ${config.issuer}\n`);
});
