const { UserHubActions } = require("@userhub/auth0-actions");

exports.onExecutePostLogin = async (event, api) => {
  const actions = new UserHubActions({
    apiKey: event.secrets.API_KEY,
    connectionId: event.secrets.CONNECTION_ID,
  });

  await actions.postLogin(event);
};
