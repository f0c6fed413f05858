/**
 * Mark the first sign-in in the ID token, and record when the user first signed in (app_metadata).
 */
exports.onExecutePostLogin = async (event, api) => {
  const first = event.stats.logins_count === 1;
  api.idToken.setCustomClaim('https://my-app.example.com/first_login', first);
  if (first && !event.user.app_metadata.first_login_at) {
    api.user.setAppMetadata('first_login_at', new Date().toISOString());
  }
};
