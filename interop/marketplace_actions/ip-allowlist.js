/**
 * Allow sign-ins only from the networks listed in the ALLOWED_NETWORKS configuration (comma-separated CIDRs).
 */
const ipaddr = require('ipaddr.js');

exports.onExecutePostLogin = async (event, api) => {
  const networks = (event.configuration.ALLOWED_NETWORKS || '').split(',').map((cidr) => cidr.trim()).filter(Boolean);
  const address = ipaddr.process(event.request.ip);
  const allowed = networks.some((cidr) => {
    const range = ipaddr.parseCIDR(cidr);
    return range[0].kind() === address.kind() && address.match(range);
  });
  if (!allowed) {
    api.access.deny('Access from your IP address is not allowed.');
  }
};
