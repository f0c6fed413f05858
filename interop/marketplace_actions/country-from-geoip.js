/**
 * Put the country the sign-in came from into the ID token (Auth0's event.request.geoip).
 */
exports.onExecutePostLogin = async (event, api) => {
  const geoip = event.request.geoip;
  api.idToken.setCustomClaim('https://my-app.example.com/country', geoip && geoip.countryCode ? geoip.countryCode : 'unknown');
};
