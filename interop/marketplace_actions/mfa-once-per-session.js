/**
 * Ask for a second factor once per session (Auth0's "Require MFA once per session").
 */
exports.onExecutePostLogin = async (event, api) => {
  const authenticated = event.authentication && event.authentication.methods.some((method) => method.name === 'mfa');
  if (!authenticated) {
    api.multifactor.enable('any', { allowRememberBrowser: false });
  }
};
