/**
 * Turn away scripted clients by their user agent.
 */
exports.onExecutePostLogin = async (event, api) => {
  const agent = event.request.user_agent || '';
  if (/curl|wget|python-requests/i.test(agent)) {
    api.access.deny('Automated sign-ins are not allowed.');
  }
};
