/**
 * Several claims in one chain: every api method returns api.
 */
exports.onExecutePostLogin = async (event, api) => {
  const namespace = 'https://my-app.example.com';
  api.idToken.setCustomClaim(`${namespace}/email`, event.user.email)
    .idToken.setCustomClaim(`${namespace}/logins`, event.stats.logins_count)
    .accessToken.setCustomClaim(`${namespace}/client`, event.client.name)
    .accessToken.setCustomClaim(`${namespace}/connection`, event.connection.name);
};
