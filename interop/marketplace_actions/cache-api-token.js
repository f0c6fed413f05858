/**
 * Get a token for a partner API once and keep it in api.cache until it nearly expires, then call the API with it.
 */
exports.onExecutePostLogin = async (event, api) => {
  let token = api.cache.get('partner_token');
  if (!token) {
    const response = await fetch(`${event.secrets.PARTNER_URL}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_id: event.secrets.PARTNER_ID, client_secret: event.secrets.PARTNER_SECRET }),
    });
    const body = await response.json();
    const result = api.cache.set('partner_token', body.access_token, { ttl: (body.expires_in - 60) * 1000 });
    if (result.type === 'error') console.log(`could not cache the token: ${result.code}`);
    token = { value: body.access_token };
  }
  const profile = await fetch(`${event.secrets.PARTNER_URL}/profile?user=${encodeURIComponent(event.user.user_id)}`, {
    headers: { Authorization: `Bearer ${token.value}` },
  });
  api.idToken.setCustomClaim('https://my-app.example.com/tier', (await profile.json()).tier);
};
