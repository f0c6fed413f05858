/**
 * Put the user's preferences from user_metadata into the ID token.
 */
exports.onExecutePostLogin = async (event, api) => {
  const { preferred_language: language = 'en', theme = 'light' } = event.user.user_metadata || {};
  api.idToken.setCustomClaim('https://my-app.example.com/language', language);
  api.idToken.setCustomClaim('https://my-app.example.com/theme', theme);
};
