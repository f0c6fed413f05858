/**
 * Read the plan from a partner's JWT kept in the Action's secrets (no verification needed: it is ours).
 */
const { jwtDecode } = require('jwt-decode');

exports.onExecutePostLogin = async (event, api) => {
  const claims = jwtDecode(event.secrets.PARTNER_JWT);
  api.idToken.setCustomClaim('https://my-app.example.com/plan', claims.plan);
};
