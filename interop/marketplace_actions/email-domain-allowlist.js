/**
 * Only users whose email belongs to one of the ALLOWED_DOMAINS (configuration, comma-separated) may sign in.
 */
exports.onExecutePostLogin = async (event, api) => {
  const allowed = (event.configuration.ALLOWED_DOMAINS || '').split(',').map((d) => d.trim().toLowerCase());
  const domain = (event.user.email || '').split('@').pop().toLowerCase();
  if (!allowed.includes(domain)) {
    api.access.deny(`Sign-ins from ${domain} are not allowed for this application.`);
  }
};
