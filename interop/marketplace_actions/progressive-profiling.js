/**
 * Ask for the company name once, on a form the app hosts (PROFILE_URL), and keep it in user_metadata.
 */
exports.onExecutePostLogin = async (event, api) => {
  if (event.user.user_metadata.company || !api.redirect.canRedirect()) return;
  api.redirect.sendUserTo(event.configuration.PROFILE_URL);
};

exports.onContinuePostLogin = async (event, api) => {
  const company = (event.request.body && event.request.body.company) || event.request.query.company;
  if (company) api.user.setUserMetadata('company', company);
};
