// The demo's whole client: OpenID Connect sign-in with PKCE (no library), then seed 001's fetch and seed 002's
// iframe with the analytics JWT that seed 000's Action put in the ID token, and seed 004's GraphQL request with the
// access token.
'use strict';

const storageKey = 'tessera-demo-sign-in';
const $ = (id) => document.getElementById(id);

const base64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const random = (size) => base64url(crypto.getRandomValues(new Uint8Array(size)));
const decodePart = (token, index) => JSON.parse(new TextDecoder().decode(
  Uint8Array.from(atob(token.split('.')[index].replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))));

async function signIn(config, signUp) {
  const verifier = random(32);
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const state = random(16), nonce = random(16);
  sessionStorage.setItem(storageKey, JSON.stringify({ verifier, state, nonce }));
  const query = new URLSearchParams({
    response_type: 'code', client_id: config.client_id, redirect_uri: config.redirect_uri, scope: 'openid profile email',
    state, nonce, code_challenge: challenge, code_challenge_method: 'S256', prompt: 'login',
  });
  if (signUp) query.set('screen_hint', 'signup');
  if (config.audience) query.set('audience', config.audience);
  location.assign(`/authorize?${query}`);
}

function fail(message) {
  $('error-message').textContent = message;
  $('error').hidden = false;
  $('signed-out').hidden = true;
}

async function finishSignIn(config, params) {
  const saved = JSON.parse(sessionStorage.getItem(storageKey) || 'null');
  sessionStorage.removeItem(storageKey);
  history.replaceState(null, '', '/demo/');
  if (!saved || saved.state !== params.get('state')) return fail('The sign-in response does not match the request this page made (state).');
  const response = await fetch('/oauth/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: config.client_id, code: params.get('code'),
                                redirect_uri: config.redirect_uri, code_verifier: saved.verifier }),
  });
  const tokens = await response.json();
  if (!response.ok) return fail(tokens.error_description || tokens.error || 'The code exchange failed.');
  const claims = decodePart(tokens.id_token, 1);
  if (claims.nonce !== saved.nonce) return fail('The ID token was not issued for this sign-in (nonce).');
  await show(claims);
  await showGraphQL(tokens.access_token);
}

// Seed 004's last steps: the user role reads its own row with the access token, and nothing without it.
async function showGraphQL(accessToken) {
  const query = '{ users { userId userName lastSeen } }';
  const ask = (headers) => fetch('/v1/graphql', {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ query }),
  }).then((response) => response.json());
  const rows = await ask({ Authorization: `Bearer ${accessToken}` });
  $('graphql-status').textContent = rows.errors ? `Error: ${rows.errors[0].message}` : `${rows.data.users.length} row(s) for you`;
  $('graphql-data').textContent = JSON.stringify(rows, null, 2);
  $('graphql-denied').textContent = JSON.stringify(await ask({}), null, 2);
}

async function show(user) {
  $('signed-in').hidden = false;
  $('who').textContent = user.email || user.sub;
  $('claims').textContent = JSON.stringify(user, null, 2);
  const tinybirdJWT = user['https://app.tinybird.co'];
  if (!tinybirdJWT) {
    $('fetch-status').textContent = 'The ID token has no https://app.tinybird.co claim: is the Tinybird JWT Action bound to post-login?';
    return;
  }
  const scope = (decodePart(tinybirdJWT, 1).scopes || []).find((s) => s.type === 'PIPES:READ');
  const pipe = scope ? scope.resource : 'sales_by_city';
  document.querySelectorAll('.pipe-name').forEach((node) => { node.textContent = pipe; });

  // Seed 001's snippet, with Tessera's host.
  const response = await fetch(`/v0/pipes/${encodeURIComponent(pipe)}.json`, {
    headers: {
      Authorization: `Bearer ${tinybirdJWT}`
    }
  });
  const data = await response.json();
  console.log(data);
  $('fetch-status').textContent = response.ok
    ? `${response.status}: ${data.rows} rows in ${(data.statistics.elapsed * 1000).toFixed(1)} ms`
    : `${response.status}: ${data.error}`;
  $('data').textContent = JSON.stringify(response.ok ? data.data : data, null, 2);

  // Seed 002's iframe: the chart page with the JWT in ?token=.
  const charts = await fetch(`/v0/pipes/${encodeURIComponent(pipe)}/charts`, { headers: { Authorization: `Bearer ${tinybirdJWT}` } });
  const list = charts.ok ? (await charts.json()).charts : [];
  if (list.length === 0) {
    $('chart-url').textContent = 'This endpoint has no chart yet.';
    return;
  }
  const src = `/endpoints/${encodeURIComponent(pipe)}/charts/${list[0].id}?token=${tinybirdJWT}`;
  $('chart').height = String(list[0].height);
  $('chart').src = src;
  $('chart-url').textContent = `iframe src: ${location.origin}${src.replace(/token=.*/, 'token=<JWT>')}`;
}

document.addEventListener('DOMContentLoaded', async () => {
  const config = await (await fetch('/demo/config.json')).json();
  const params = new URLSearchParams(location.search);
  $('sign-up').addEventListener('click', () => signIn(config, true));
  $('sign-in').addEventListener('click', () => signIn(config, false));
  $('sign-out').addEventListener('click', () => {
    location.assign(`/v2/logout?${new URLSearchParams({ client_id: config.client_id, returnTo: config.redirect_uri })}`);
  });
  if (params.get('error')) {
    history.replaceState(null, '', '/demo/');
    fail(`${params.get('error')}: ${params.get('error_description') || ''}`);
  } else if (params.get('code')) {
    await finishSignIn(config, params);
  } else {
    $('signed-out').hidden = false;
  }
});
