/**
 * Send users who have not accepted the terms to a consent page (CONSENT_URL), and record the answer when they
 * come back to /continue (Auth0's "Redirect with Actions" pattern).
 */
exports.onExecutePostLogin = async (event, api) => {
  if (event.user.app_metadata.terms_accepted_version === event.configuration.TERMS_VERSION) return;
  api.redirect.sendUserTo(event.configuration.CONSENT_URL, {
    query: { version: event.configuration.TERMS_VERSION, email: event.user.email },
  });
};

exports.onContinuePostLogin = async (event, api) => {
  if (event.request.query.accepted !== 'yes') {
    api.access.deny('You must accept the terms to continue.');
    return;
  }
  api.user.setAppMetadata('terms_accepted_version', event.configuration.TERMS_VERSION);
};
