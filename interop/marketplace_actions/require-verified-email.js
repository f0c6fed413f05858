/**
 * Deny access to users whose email address is not verified (Auth0's "Email verified" template).
 */
exports.onExecutePostLogin = async (event, api) => {
  if (!event.user.email_verified) {
    api.access.deny('Please verify your email before logging in.');
  }
};
