/**
 * Require a second factor for administrators only.
 */
exports.onExecutePostLogin = async (event, api) => {
  if (event.authorization && event.authorization.roles.includes('admin')) {
    api.multifactor.enable('otp');
  }
};
