/**
 * Give every new user the DEFAULT_ROLE_ID role with the Management API client (Auth0's "Assign a default role").
 */
const { ManagementClient } = require('auth0');

exports.onExecutePostLogin = async (event, api) => {
  if (event.authorization && event.authorization.roles.length > 0) return;
  const management = new ManagementClient({
    domain: event.secrets.domain,
    clientId: event.secrets.clientId,
    clientSecret: event.secrets.clientSecret,
  });
  const params = { id: event.user.user_id };
  const data = { roles: [event.secrets.DEFAULT_ROLE_ID] };
  try {
    await management.assignRolestoUser(params, data);
    const roles = await management.getUserRoles(params);
    api.idToken.setCustomClaim('https://my-app.example.com/roles', roles.map((role) => role.name));
  } catch (error) {
    console.log(error.message);
    api.access.deny(`Could not assign the default role: ${error.statusCode}`);
  }
};
