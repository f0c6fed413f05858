/**
 * Ask a risk service (RISK_API_URL, with RISK_API_KEY) for a score with axios; deny above RISK_THRESHOLD.
 */
const axios = require('axios');

exports.onExecutePostLogin = async (event, api) => {
  try {
    const { data } = await axios.post(event.secrets.RISK_API_URL, {
      user_id: event.user.user_id,
      ip: event.request.ip,
      user_agent: event.request.user_agent,
    }, { headers: { 'X-Api-Key': event.secrets.RISK_API_KEY }, timeout: 3000 });
    api.idToken.setCustomClaim('https://my-app.example.com/risk', data.score);
    if (data.score > Number(event.configuration.RISK_THRESHOLD || 80)) {
      api.access.deny('This sign-in looks risky. Contact support.');
    }
  } catch (error) {
    if (error.response && error.response.status === 401) {
      api.access.deny('The risk service refused our key.');
    }
    console.log(`risk service unavailable: ${error.message}`);
  }
};
