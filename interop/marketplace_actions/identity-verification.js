/**
 * Send the user to an identity-verification service with a signed session token, and accept the result only in a
 * token signed with the same secret and naming this sign-in's state.
 */
exports.onExecutePostLogin = async (event, api) => {
  if (event.user.app_metadata.identity_verified) return;
  const token = api.redirect.encodeToken({
    secret: event.secrets.SESSION_TOKEN_SECRET,
    expiresInSeconds: 300,
    payload: { email: event.user.email, continue_uri: `https://${event.request.hostname}/continue` },
  });
  api.redirect.sendUserTo(event.secrets.VERIFY_URL, { query: { session_token: token } });
};

exports.onContinuePostLogin = async (event, api) => {
  const payload = api.redirect.validateToken({ secret: event.secrets.SESSION_TOKEN_SECRET, tokenParameterName: 'result' });
  if (payload.verified !== true) {
    api.access.deny('Identity verification failed.');
    return;
  }
  api.user.setAppMetadata('identity_verified', true);
  api.idToken.setCustomClaim('https://my-app.example.com/verified', true);
};
