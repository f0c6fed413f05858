// Tessera Actions runtime: what an Auth0 post-login Action finds around it, built on a few native functions
// (`__native`) that Swift provides. Runs once per execution, in a fresh context, before the action's code.
(function (native) {
  'use strict';
  const outcome = { idToken: {}, accessToken: {}, appMetadata: {}, userMetadata: {}, deny: null,
                    addScopes: [], removeScopes: [], logs: [] };

  const text = (value) => {
    if (typeof value === 'string') return value;
    if (value instanceof Error) return value.stack ? `${value}\n${value.stack}` : String(value);
    try { const json = JSON.stringify(value); return json === undefined ? String(value) : json; } catch (e) { return String(value); }
  };
  const logger = (level) => (...args) => { if (outcome.logs.length < 1000) outcome.logs.push({ level, message: args.map(text).join(' ') }); };
  globalThis.console = { log: logger('log'), info: logger('info'), warn: logger('warn'), error: logger('error'), debug: logger('debug') };

  // jsonwebtoken: sign, verify and decode with HMAC (HS256/384/512), as the seeds use it.
  const units = { ms: 0.001, s: 1, sec: 1, second: 1, seconds: 1, m: 60, min: 60, minute: 60, minutes: 60,
                  h: 3600, hr: 3600, hour: 3600, hours: 3600, d: 86400, day: 86400, days: 86400,
                  w: 604800, week: 604800, weeks: 604800, y: 31557600, year: 31557600, years: 31557600 };
  const seconds = (value, name) => {
    if (typeof value === 'number' && isFinite(value)) return Math.floor(value);
    const match = /^\s*(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(String(value));
    if (!match || !(match[2].toLowerCase() in units) && match[2] !== '') {
      throw new Error(`"${name}" should be a number of seconds or a string representing a timespan`);
    }
    if (match[2] === '') throw new Error(`"${name}" string needs a unit, such as "7d" or "48h"`);
    return Math.floor(parseFloat(match[1]) * units[match[2].toLowerCase()]);
  };
  const algorithms = ['HS256', 'HS384', 'HS512'];
  const jsonwebtoken = {
    sign(payload, secret, options, callback) {
      if (typeof options === 'function') { callback = options; options = {}; }
      options = options || {};
      const algorithm = options.algorithm || 'HS256';
      if (!algorithms.includes(algorithm)) throw new Error(`"algorithm" must be one of ${algorithms.join(', ')} in Tessera Actions`);
      if (typeof secret !== 'string' || secret.length === 0) throw new Error('secretOrPrivateKey must have a value');
      const claims = typeof payload === 'object' && payload !== null ? Object.assign({}, payload) : payload;
      if (typeof claims !== 'object' || claims === null) throw new Error('Tessera Actions sign object payloads only');
      const now = Math.floor(Date.now() / 1000);
      if (!options.noTimestamp) claims.iat = typeof claims.iat === 'number' ? claims.iat : now;
      const base = typeof claims.iat === 'number' ? claims.iat : now;
      if (options.expiresIn !== undefined) claims.exp = base + seconds(options.expiresIn, 'expiresIn');
      if (options.notBefore !== undefined) claims.nbf = base + seconds(options.notBefore, 'notBefore');
      if (options.audience !== undefined) claims.aud = options.audience;
      if (options.issuer !== undefined) claims.iss = options.issuer;
      if (options.subject !== undefined) claims.sub = options.subject;
      if (options.jwtid !== undefined) claims.jti = options.jwtid;
      const header = Object.assign({ alg: algorithm, typ: 'JWT' }, options.header || {});
      if (options.keyid !== undefined) header.kid = options.keyid;
      const token = native.jwsSign(algorithm, secret, JSON.stringify(header), JSON.stringify(claims));
      if (callback) { callback(null, token); return undefined; }
      return token;
    },
    decode(token, options) {
      const parts = String(token).split('.');
      if (parts.length !== 3) return null;
      try {
        const payload = JSON.parse(native.base64urlDecode(parts[1]));
        if (options && options.complete) return { header: JSON.parse(native.base64urlDecode(parts[0])), payload, signature: parts[2] };
        return payload;
      } catch (e) { return null; }
    },
    verify(token, secret, options) {
      options = options || {};
      const decoded = jsonwebtoken.decode(token, { complete: true });
      if (!decoded) throw Object.assign(new Error('jwt malformed'), { name: 'JsonWebTokenError' });
      const allowed = options.algorithms || algorithms;
      if (!allowed.includes(decoded.header.alg) || !algorithms.includes(decoded.header.alg)) {
        throw Object.assign(new Error('invalid algorithm'), { name: 'JsonWebTokenError' });
      }
      if (!native.jwsVerify(decoded.header.alg, String(secret), String(token))) {
        throw Object.assign(new Error('invalid signature'), { name: 'JsonWebTokenError' });
      }
      const now = Math.floor(Date.now() / 1000);
      const claims = decoded.payload;
      if (!options.ignoreExpiration && typeof claims.exp === 'number' && now >= claims.exp) {
        throw Object.assign(new Error('jwt expired'), { name: 'TokenExpiredError', expiredAt: new Date(claims.exp * 1000) });
      }
      if (typeof claims.nbf === 'number' && now < claims.nbf) throw Object.assign(new Error('jwt not active'), { name: 'NotBeforeError' });
      const audiences = [].concat(claims.aud === undefined ? [] : claims.aud);
      if (options.audience !== undefined && ![].concat(options.audience).some((a) => audiences.includes(a))) {
        throw Object.assign(new Error('jwt audience invalid'), { name: 'JsonWebTokenError' });
      }
      if (options.issuer !== undefined && ![].concat(options.issuer).includes(claims.iss)) {
        throw Object.assign(new Error('jwt issuer invalid'), { name: 'JsonWebTokenError' });
      }
      return options.complete ? decoded : claims;
    },
  };

  // fetch (WHATWG-style) and node-fetch v2: requests run in Swift; only http(s), 10 s, 1 MiB, 20 per execution.
  const makeResponse = (raw) => {
    const headers = raw.headers || {};
    let used = false;
    const body = () => { if (used) throw new TypeError('body used already'); used = true; return raw.body; };
    return {
      ok: raw.status >= 200 && raw.status < 300, status: raw.status, statusText: raw.statusText, url: raw.url,
      headers: { get: (name) => headers[String(name).toLowerCase()] ?? null, has: (name) => String(name).toLowerCase() in headers,
                 forEach: (fn) => Object.keys(headers).forEach((key) => fn(headers[key], key)), raw: () => headers },
      get bodyUsed() { return used; },
      text: async () => body(),
      json: async () => JSON.parse(body()),
    };
  };
  const fetch = function fetch(resource, options) {
    options = options || {};
    const headers = {};
    const given = options.headers || {};
    if (typeof given.forEach === 'function' && !Array.isArray(given)) given.forEach((value, key) => { headers[key] = String(value); });
    else if (Array.isArray(given)) given.forEach(([key, value]) => { headers[key] = String(value); });
    else Object.keys(given).forEach((key) => { headers[key] = String(given[key]); });
    const request = { url: String(resource), method: String(options.method || 'GET').toUpperCase(), headers,
                      body: options.body === undefined || options.body === null ? null : String(options.body) };
    return native.fetch(JSON.stringify(request)).then((raw) => makeResponse(JSON.parse(raw)));
  };
  fetch.default = fetch;
  globalThis.fetch = fetch;

  const builtins = { jsonwebtoken, 'node-fetch': fetch };
  globalThis.require = function require(name) {
    if (Object.prototype.hasOwnProperty.call(builtins, name)) return builtins[name];
    throw new Error(`Cannot find module '${name}': Tessera Actions provide ${Object.keys(builtins).join(', ')}`);
  };
  globalThis.require.available = Object.keys(builtins);

  const claimValue = (value) => (value === undefined ? null : JSON.parse(JSON.stringify(value)));
  const api = {
    idToken: { setCustomClaim(name, value) { outcome.idToken[String(name)] = claimValue(value); } },
    accessToken: {
      setCustomClaim(name, value) { outcome.accessToken[String(name)] = claimValue(value); },
      addScope(scope) { outcome.addScopes.push(String(scope)); },
      removeScope(scope) { outcome.removeScopes.push(String(scope)); },
    },
    user: {
      setAppMetadata(name, value) { outcome.appMetadata[String(name)] = claimValue(value); },
      setUserMetadata(name, value) { outcome.userMetadata[String(name)] = claimValue(value); },
    },
    access: { deny(reason) { outcome.deny = String(reason === undefined ? 'Access denied' : reason); } },
  };

  globalThis.__tessera = {
    outcome,
    // Runs the handler and records how its promise settles; JavaScriptCore drains microtasks when Swift's call returns.
    run(handler, event) {
      const state = { settled: false, error: null };
      if (typeof handler !== 'function') {
        state.settled = true;
        state.error = 'The action does not export onExecutePostLogin';
        return state;
      }
      Promise.resolve().then(() => handler(event, api)).then(
        () => { state.settled = true; },
        (error) => { state.settled = true; state.error = text(error); });
      return state;
    },
  };
})(__native);
