// Tessera Actions runtime: what an Auth0 post-login Action finds around it, built on a few native functions
// (`__native`) that Swift provides. Runs once per execution, in a fresh context, before the action's code.
(function (native, cacheSnapshot) {
  'use strict';
  // Taken before the action's code runs, so replacing JSON.stringify or Object.freeze cannot change what Swift reads.
  const stringify = JSON.stringify, parse = JSON.parse, freeze = Object.freeze, defineProperty = Object.defineProperty;
  const maximumLogLength = 8192;
  const outcome = { idToken: {}, accessToken: {}, appMetadata: {}, userMetadata: {}, deny: null,
                    addScopes: [], removeScopes: [], logs: [], cacheWrites: {}, redirect: null, multifactor: null,
                    revokeSession: null, recordedMethods: [] };

  const text = (value) => {
    if (typeof value === 'string') return value;
    if (value instanceof Error) return value.stack ? `${value}\n${value.stack}` : String(value);
    try { const json = JSON.stringify(value); return json === undefined ? String(value) : json; } catch (e) { return String(value); }
  };
  const logger = (level) => (...args) => {
    if (outcome.logs.length >= 1000) return;
    const message = args.map(text).join(' ');
    outcome.logs.push({ level, message: message.length > maximumLogLength ? `${message.slice(0, maximumLogLength)}… (${message.length} characters)` : message });
  };
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
  // A key's kind decides which algorithms it may be used with, so a public key can never serve as an HMAC secret.
  const hmacAlgorithms = ['HS256', 'HS384', 'HS512'], rsaAlgorithms = ['RS256', 'RS384', 'RS512'];
  const algorithms = hmacAlgorithms.concat(rsaAlgorithms);
  const isPEM = (key) => /-----BEGIN [A-Z ]*KEY-----/.test(String(key));
  const keyText = (key) => (key && typeof key === 'object' && key.key !== undefined ? String(key.key) : Buffer.isBuffer(key) ? key.toString() : key);
  const jsonwebtoken = {
    sign(payload, secret, options, callback) {
      if (typeof options === 'function') { callback = options; options = {}; }
      options = options || {};
      secret = keyText(secret);
      const algorithm = options.algorithm || (isPEM(secret) ? 'RS256' : 'HS256');
      if (!algorithms.includes(algorithm)) throw new Error(`"algorithm" must be one of ${algorithms.join(', ')} in Tessera Actions`);
      if (typeof secret !== 'string' || secret.length === 0) throw new Error('secretOrPrivateKey must have a value');
      if (hmacAlgorithms.includes(algorithm) && isPEM(secret)) throw new Error(`secretOrPrivateKey must be a symmetric key when using ${algorithm}`);
      if (rsaAlgorithms.includes(algorithm) && !isPEM(secret)) throw new Error(`secretOrPrivateKey must be an asymmetric key when using ${algorithm}`);
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
    verify(token, secret, options, callback) {
      if (typeof options === 'function') { callback = options; options = {}; }
      if (callback) {
        try { callback(null, jsonwebtoken.verify(token, secret, options)); } catch (error) { callback(error); }
        return undefined;
      }
      options = options || {};
      secret = keyText(secret);
      if (typeof secret !== 'string' || secret.length === 0) {
        throw Object.assign(new Error('secret or public key must be provided'), { name: 'JsonWebTokenError' });
      }
      const decoded = jsonwebtoken.decode(token, { complete: true });
      if (!decoded) throw Object.assign(new Error('jwt malformed'), { name: 'JsonWebTokenError' });
      const allowed = (options.algorithms || (isPEM(secret) ? rsaAlgorithms : hmacAlgorithms))
        .filter((alg) => (isPEM(secret) ? rsaAlgorithms : hmacAlgorithms).includes(alg));
      if (!allowed.includes(decoded.header.alg)) {
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
    if (globalThis.Request && resource instanceof globalThis.Request) {
      options = Object.assign({ method: resource.method, headers: resource.headers, body: resource.bodyText, signal: resource.signal }, options || {});
      resource = resource.url;
    }
    options = options || {};
    const headers = {};
    const given = options.headers || {};
    if (typeof given.forEach === 'function' && !Array.isArray(given)) given.forEach((value, key) => { headers[key] = String(value); });
    else if (Array.isArray(given)) given.forEach(([key, value]) => { headers[key] = String(value); });
    else Object.keys(given).forEach((key) => { headers[key] = String(given[key]); });
    let body = options.body === undefined || options.body === null ? null : options.body;
    if (body instanceof globalThis.FormData) {
      const boundary = `----TesseraFormBoundary${Math.random().toString(16).slice(2)}${Math.random().toString(16).slice(2)}`;
      headers['Content-Type'] = `multipart/form-data; boundary=${boundary}`;
      body = body.multipart(boundary);
    } else if (body instanceof globalThis.URLSearchParams) {
      if (!Object.keys(headers).some((key) => key.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/x-www-form-urlencoded;charset=UTF-8';
      body = body.toString();
    }
    const signal = options.signal;
    const abortError = () => { const error = new Error('This operation was aborted'); error.name = 'AbortError'; return error; };
    if (signal && signal.aborted) return Promise.reject(abortError());
    const request = { url: String(resource), method: String(options.method || 'GET').toUpperCase(), headers,
                      body: body === null ? null : String(body) };
    const answer = native.fetch(JSON.stringify(request)).then((raw) => makeResponse(JSON.parse(raw)));
    if (!signal) return answer;
    // The request itself runs to its own limits; an abort settles the promise at once, as in Node.
    return Promise.race([answer, new Promise((_, reject) => signal.addEventListener('abort', () => reject(abortError())))]);
  };

  // Headers, AbortController and FormData, as Node 18 has them globally.
  globalThis.Headers = class Headers {
    constructor(init) {
      this.map = new Map();
      if (init instanceof Headers) init.forEach((value, key) => this.append(key, value));
      else if (Array.isArray(init)) init.forEach(([key, value]) => this.append(key, value));
      else if (init) Object.keys(init).forEach((key) => this.append(key, init[key]));
    }
    append(name, value) { const key = String(name).toLowerCase(); this.map.set(key, this.map.has(key) ? `${this.map.get(key)}, ${value}` : String(value)); }
    set(name, value) { this.map.set(String(name).toLowerCase(), String(value)); }
    get(name) { const value = this.map.get(String(name).toLowerCase()); return value === undefined ? null : value; }
    has(name) { return this.map.has(String(name).toLowerCase()); }
    delete(name) { this.map.delete(String(name).toLowerCase()); }
    forEach(callback) { Array.from(this.map.keys()).sort().forEach((key) => callback(this.map.get(key), key, this)); }
    *entries() { for (const key of Array.from(this.map.keys()).sort()) yield [key, this.map.get(key)]; }
    keys() { return Array.from(this.map.keys()).sort()[Symbol.iterator](); }
    values() { return Array.from(this.entries(), ([, value]) => value)[Symbol.iterator](); }
    [Symbol.iterator]() { return this.entries(); }
  };
  globalThis.AbortSignal = class AbortSignal {
    constructor() { this.aborted = false; this.reason = undefined; this.listeners = []; this.onabort = null; }
    addEventListener(type, listener) { if (type === 'abort') this.listeners.push(listener); }
    removeEventListener(type, listener) { this.listeners = this.listeners.filter((item) => item !== listener); }
    throwIfAborted() { if (this.aborted) throw this.reason; }
    static timeout(milliseconds) { const controller = new globalThis.AbortController(); setTimeout(() => controller.abort(), milliseconds); return controller.signal; }
  };
  globalThis.AbortController = class AbortController {
    constructor() { this.signal = new globalThis.AbortSignal(); }
    abort(reason) {
      const signal = this.signal;
      if (signal.aborted) return;
      signal.aborted = true;
      signal.reason = reason === undefined ? Object.assign(new Error('This operation was aborted'), { name: 'AbortError' }) : reason;
      const event = { type: 'abort', target: signal };
      if (typeof signal.onabort === 'function') signal.onabort(event);
      signal.listeners.forEach((listener) => listener(event));
    }
  };
  globalThis.FormData = class FormData {
    constructor() { this.fields = []; }
    append(name, value) { this.fields.push([String(name), String(value)]); }
    set(name, value) { this.delete(name); this.append(name, value); }
    get(name) { const found = this.fields.find(([key]) => key === String(name)); return found ? found[1] : null; }
    getAll(name) { return this.fields.filter(([key]) => key === String(name)).map(([, value]) => value); }
    has(name) { return this.fields.some(([key]) => key === String(name)); }
    delete(name) { this.fields = this.fields.filter(([key]) => key !== String(name)); }
    forEach(callback) { this.fields.forEach(([key, value]) => callback(value, key, this)); }
    *entries() { yield* this.fields.map((field) => field.slice()); }
    [Symbol.iterator]() { return this.entries(); }
    // Text fields only: what Actions post (files have no place in a sign-in).
    multipart(boundary) {
      const escape = (text) => text.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
      return this.fields.map(([key, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${escape(key)}"\r\n\r\n${value}\r\n`).join('') + `--${boundary}--\r\n`;
    }
  };
  fetch.default = fetch;
  globalThis.fetch = fetch;


  // Bytes: Buffer (utf8, hex, base64, base64url, latin1), TextEncoder/TextDecoder, atob/btoa.
  const utf8Encode = (text) => {
    const bytes = [];
    for (let i = 0; i < text.length; i++) {
      let code = text.charCodeAt(i);
      if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
        const low = text.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) { code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00); i++; }
      }
      if (code < 0x80) bytes.push(code);
      else if (code < 0x800) bytes.push(0xc0 | (code >> 6), 0x80 | (code & 63));
      else if (code < 0x10000) bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
      else bytes.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    }
    return bytes;
  };
  const utf8Decode = (bytes) => {
    let out = '';
    for (let i = 0; i < bytes.length;) {
      const b = bytes[i];
      let code, extra;
      if (b < 0x80) { code = b; extra = 0; } else if (b >= 0xf0) { code = b & 7; extra = 3; }
      else if (b >= 0xe0) { code = b & 15; extra = 2; } else if (b >= 0xc0) { code = b & 31; extra = 1; } else { code = 0xfffd; extra = 0; }
      for (let k = 1; k <= extra; k++) code = (code << 6) | ((bytes[i + k] || 0) & 63);
      i += extra + 1;
      out += String.fromCodePoint(code > 0x10ffff ? 0xfffd : code);
    }
    return out;
  };
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const toBase64 = (bytes) => {
    let out = '';
    for (let i = 0; i < bytes.length; i += 3) {
      const n = (bytes[i] << 16) | ((bytes[i + 1] || 0) << 8) | (bytes[i + 2] || 0);
      out += alphabet[(n >> 18) & 63] + alphabet[(n >> 12) & 63] + (i + 1 < bytes.length ? alphabet[(n >> 6) & 63] : '=') + (i + 2 < bytes.length ? alphabet[n & 63] : '=');
    }
    return out;
  };
  const fromBase64 = (text) => {
    const clean = String(text).replace(/-/g, '+').replace(/_/g, '/').replace(/[^A-Za-z0-9+/]/g, '');
    const bytes = [];
    let buffer = 0, bits = 0;
    for (const ch of clean) { buffer = (buffer << 6) | alphabet.indexOf(ch); bits += 6; if (bits >= 8) { bits -= 8; bytes.push((buffer >> bits) & 255); } }
    return bytes;
  };
  const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  const fromHex = (text) => { const bytes = []; for (let i = 0; i + 1 < text.length; i += 2) { const b = parseInt(text.substr(i, 2), 16); if (isNaN(b)) break; bytes.push(b); } return bytes; };
  const encode = (text, encoding) => {
    switch ((encoding || 'utf8').toLowerCase()) {
      case 'utf8': case 'utf-8': return utf8Encode(String(text));
      case 'hex': return fromHex(String(text));
      case 'base64': case 'base64url': return fromBase64(text);
      case 'latin1': case 'binary': case 'ascii': return Array.from(String(text), (c) => c.charCodeAt(0) & 255);
      default: throw new TypeError(`Unknown encoding: ${encoding}`);
    }
  };
  class Buffer extends Uint8Array {
    static from(value, encoding) {
      if (typeof value === 'string') return new Buffer(encode(value, encoding));
      if (value instanceof ArrayBuffer) return new Buffer(new Uint8Array(value));
      if (value && value.type === 'Buffer' && Array.isArray(value.data)) return new Buffer(value.data);
      return new Buffer(Array.from(value || []));
    }
    static alloc(size, fill) { const b = new Buffer(size); if (fill !== undefined) b.fill(typeof fill === 'number' ? fill : encode(fill)[0] || 0); return b; }
    static isBuffer(value) { return value instanceof Buffer; }
    static byteLength(value, encoding) { return typeof value === 'string' ? encode(value, encoding).length : value.length; }
    static concat(list) { const out = []; list.forEach((b) => out.push(...b)); return new Buffer(out); }
    toString(encoding, start, end) {
      const bytes = Array.from(this.subarray(start || 0, end === undefined ? this.length : end));
      switch ((encoding || 'utf8').toLowerCase()) {
        case 'utf8': case 'utf-8': return utf8Decode(bytes);
        case 'hex': return toHex(bytes);
        case 'base64': return toBase64(bytes);
        case 'base64url': return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
        case 'latin1': case 'binary': case 'ascii': return String.fromCharCode(...bytes);
        default: throw new TypeError(`Unknown encoding: ${encoding}`);
      }
    }
    equals(other) { return this.length === other.length && this.every((b, i) => b === other[i]); }
    toJSON() { return { type: 'Buffer', data: Array.from(this) }; }
  }
  const bytesOf = (data, encoding) => (typeof data === 'string' ? encode(data, encoding) : Array.from(data));
  globalThis.Buffer = Buffer;
  globalThis.btoa = (text) => toBase64(Array.from(String(text), (c) => { const code = c.charCodeAt(0); if (code > 255) throw new Error('InvalidCharacterError'); return code; }));
  globalThis.atob = (text) => String.fromCharCode(...fromBase64(text));
  globalThis.TextEncoder = class TextEncoder { get encoding() { return 'utf-8'; } encode(text) { return new Uint8Array(utf8Encode(String(text === undefined ? '' : text))); } };
  globalThis.TextDecoder = class TextDecoder { get encoding() { return 'utf-8'; } decode(bytes) { return bytes ? utf8Decode(Array.from(new Uint8Array(bytes.buffer || bytes))) : ''; } };

  // crypto: randomUUID, randomBytes, createHash, createHmac, timingSafeEqual (hashing done natively).
  const digestOutput = (hex, encoding) => { const b = Buffer.from(hex, 'hex'); return encoding ? b.toString(encoding) : b; };
  const crypto = {
    randomBytes(size) { return Buffer.from(native.randomBytes(Math.max(0, Math.min(65536, size | 0))), 'hex'); },
    randomUUID() {
      const b = Array.from(crypto.randomBytes(16));
      b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
      const h = toHex(b);
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    },
    createHash(algorithm) {
      const parts = [];
      return { update(data, encoding) { parts.push(...bytesOf(data, encoding)); return this; },
               digest(encoding) { return digestOutput(native.digest(String(algorithm), toHex(parts)), encoding); } };
    },
    createHmac(algorithm, key) {
      const keyHex = toHex(bytesOf(key));
      const parts = [];
      return { update(data, encoding) { parts.push(...bytesOf(data, encoding)); return this; },
               digest(encoding) { return digestOutput(native.hmac(String(algorithm), keyHex, toHex(parts)), encoding); } };
    },
    timingSafeEqual(a, b) {
      if (a.length !== b.length) throw new RangeError('Input buffers must have the same byte length');
      let diff = 0; for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i]; return diff === 0;
    },
  };

  // URLSearchParams (application/x-www-form-urlencoded).
  globalThis.URLSearchParams = class URLSearchParams {
    constructor(init) {
      this._pairs = [];
      if (typeof init === 'string') {
        init.replace(/^\?/, '').split('&').filter(Boolean).forEach((pair) => {
          const [k, v = ''] = pair.split('=');
          const dec = (x) => decodeURIComponent(x.replace(/\+/g, ' '));
          this._pairs.push([dec(k), dec(v)]);
        });
      } else if (init && typeof init === 'object') {
        (Array.isArray(init) ? init : Object.entries(init)).forEach(([k, v]) => this._pairs.push([String(k), String(v)]));
      }
    }
    append(k, v) { this._pairs.push([String(k), String(v)]); }
    get(k) { const p = this._pairs.find(([key]) => key === k); return p ? p[1] : null; }
    getAll(k) { return this._pairs.filter(([key]) => key === k).map(([, v]) => v); }
    has(k) { return this._pairs.some(([key]) => key === k); }
    set(k, v) { this.delete(k); this.append(k, v); }
    delete(k) { this._pairs = this._pairs.filter(([key]) => key !== k); }
    forEach(fn) { this._pairs.forEach(([k, v]) => fn(v, k, this)); }
    entries() { return this._pairs[Symbol.iterator](); }
    [Symbol.iterator]() { return this.entries(); }
    toString() { const enc = (x) => encodeURIComponent(x).replace(/%20/g, '+'); return this._pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&'); }
  };

  // URL (WHATWG shape) for absolute URLs, or relative ones against a base.
  const urlPattern = /^([a-zA-Z][a-zA-Z0-9+.-]*:)(?:\/\/(?:([^:@\/?#]*)(?::([^@\/?#]*))?@)?(\[[^\]]*\]|[^:\/?#]*)(?::(\d*))?)?([^?#]*)(\?[^#]*)?(#.*)?$/;
  const defaultPorts = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443', 'ftp:': '21' };
  globalThis.URL = class URL {
    constructor(input, base) {
      let text = String(input).trim();
      if (base !== undefined && !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(text)) {
        const root = new URL(base);
        if (text.startsWith('//')) text = root.protocol + text;
        else if (text.startsWith('/')) text = root.origin + text;
        else if (text.startsWith('?')) text = root.origin + root.pathname + text;
        else if (text.startsWith('#')) text = root.origin + root.pathname + root.search + text;
        else text = root.origin + root.pathname.replace(/[^/]*$/, '') + text;
      }
      const match = urlPattern.exec(text);
      if (!match || (/^(https?|wss?|ftp):$/i.test(match[1]) && !match[4])) throw new TypeError(`Invalid URL: ${input}`);
      this.protocol = match[1].toLowerCase();
      this.username = match[2] || '';
      this.password = match[3] || '';
      this.hostname = (match[4] || '').toLowerCase();
      this.port = match[5] && match[5] !== defaultPorts[this.protocol] ? match[5] : '';
      const segments = [];
      (match[6] || (match[4] !== undefined ? '/' : '')).split('/').forEach((part, index, all) => {
        if (part === '..') { if (segments.length > 1) segments.pop(); if (index === all.length - 1) segments.push(''); }
        else if (part === '.') { if (index === all.length - 1) segments.push(''); }
        else segments.push(part);
      });
      this.pathname = segments.join('/') || '/';
      this.hash = match[8] && match[8] !== '#' ? match[8] : '';
      this.searchParams = new URLSearchParams(match[7] || '');
      this._search = match[7] && match[7] !== '?' ? match[7] : '';
      this._searchText = this.searchParams.toString();
    }
    get search() { const now = this.searchParams.toString(); return now === this._searchText ? this._search : (now ? `?${now}` : ''); }
    set search(value) { this.searchParams = new URLSearchParams(String(value)); this._search = ''; this._searchText = null; }
    get host() { return this.hostname + (this.port ? `:${this.port}` : ''); }
    get origin() { return `${this.protocol}//${this.host}`; }
    get href() {
      const auth = this.username ? `${this.username}${this.password ? `:${this.password}` : ''}@` : '';
      return `${this.protocol}//${auth}${this.host}${this.pathname}${this.search}${this.hash}`;
    }
    toString() { return this.href; }
    toJSON() { return this.href; }
  };

  // Timers: callbacks run from the execution's event loop in Swift, in due order, within the flow's time limit.
  const timers = new Map();
  let timerSequence = 0;
  globalThis.setTimeout = (callback, delay, ...args) => {
    if (typeof callback !== 'function') throw new TypeError('The "callback" argument must be of type function');
    if (timers.size >= 1000) throw new Error('an action may have at most 1000 pending timers');
    const id = ++timerSequence;
    timers.set(id, { due: Date.now() + Math.max(0, Number(delay) || 0), callback, args });
    return id;
  };
  globalThis.clearTimeout = (id) => { timers.delete(id); };
  globalThis.setImmediate = (callback, ...args) => globalThis.setTimeout(callback, 0, ...args);
  globalThis.clearImmediate = globalThis.clearTimeout;
  globalThis.queueMicrotask = (callback) => {
    if (typeof callback !== 'function') throw new TypeError('The "callback" argument must be of type function');
    Promise.resolve().then(() => callback());
  };
  // Node's `process`, as far as Actions see it on Auth0: an empty environment (secrets come in event.secrets).
  globalThis.process = Object.freeze({ env: Object.freeze({}) });
  // structuredClone for what Actions pass around: plain objects, arrays, dates, maps, sets, primitives; cycles kept.
  globalThis.structuredClone = (value) => {
    const seen = new Map();
    const clone = (item) => {
      if (item === null || typeof item !== 'object') {
        if (typeof item === 'function' || typeof item === 'symbol') {
          const error = new Error(`${typeof item} could not be cloned`);
          error.name = 'DataCloneError';
          throw error;
        }
        return item;
      }
      if (seen.has(item)) return seen.get(item);
      let copy;
      if (item instanceof Date) copy = new Date(item.getTime());
      else if (item instanceof RegExp) copy = new RegExp(item.source, item.flags);
      else if (item instanceof Map) { copy = new Map(); seen.set(item, copy); item.forEach((v, k) => copy.set(clone(k), clone(v))); return copy; }
      else if (item instanceof Set) { copy = new Set(); seen.set(item, copy); item.forEach((v) => copy.add(clone(v))); return copy; }
      else if (Array.isArray(item)) { copy = []; seen.set(item, copy); item.forEach((v, i) => { copy[i] = clone(v); }); return copy; }
      else if (ArrayBuffer.isView(item)) copy = item.slice();
      else { copy = {}; seen.set(item, copy); Object.keys(item).forEach((key) => { copy[key] = clone(item[key]); }); return copy; }
      seen.set(item, copy);
      return copy;
    };
    return clone(value);
  };

  // api.cache: this action's entries, read from a snapshot; writes are returned to Swift, which keeps them.
  const cacheLimits = { keyLength: 256, valueBytes: 4096, defaultTtl: 15 * 60 * 1000, maximumTtl: 24 * 60 * 60 * 1000 };
  const cache = Object.assign(Object.create(null), cacheSnapshot || {});
  const cacheAPI = {
    get(key) {
      const entry = cache[String(key)];
      return entry && entry.expires_at > Date.now() ? { value: entry.value, expires_at: entry.expires_at } : undefined;
    },
    set(key, value, options) {
      key = String(key);
      if (typeof value !== 'string') return { type: 'error', code: 'invalid_argument', message: 'cache values must be strings' };
      if (key.length === 0 || key.length > cacheLimits.keyLength) return { type: 'error', code: 'invalid_argument', message: `cache keys have 1 to ${cacheLimits.keyLength} characters` };
      if (utf8Encode(value).length > cacheLimits.valueBytes) return { type: 'error', code: 'value_too_large', message: `cache values have at most ${cacheLimits.valueBytes} bytes` };
      const now = Date.now();
      options = options || {};
      let expires = options.expires_at !== undefined ? Number(options.expires_at) : now + (options.ttl !== undefined ? Number(options.ttl) : cacheLimits.defaultTtl);
      if (!isFinite(expires) || expires <= now) return { type: 'error', code: 'invalid_argument', message: 'the lifetime must be in the future' };
      expires = Math.floor(Math.min(expires, now + cacheLimits.maximumTtl));
      const record = { value, expires_at: expires };
      cache[key] = record;
      outcome.cacheWrites[key] = record;
      return { type: 'success', record: { value, expires_at: expires } };
    },
    delete(key) {
      key = String(key);
      delete cache[key];
      outcome.cacheWrites[key] = null;
      return { type: 'success' };
    },
  };

  // @userhub/auth0-actions (seed 003): postLogin(event) reports the sign-in to the directory's
  // POST /admin/v1/users/{user_id}@{connectionId}:event, SIGNUP on a first login, SIGNIN otherwise. The directory
  // pulls the user in the background, so this is one short request; it never fails or holds up the sign-in: at
  // most 2.5 s, and errors are logged.
  class UserHubActions {
    constructor(options) {
      options = options || {};
      if (!options.apiKey) throw new Error('UserHubActions: apiKey is required');
      if (!options.connectionId) throw new Error('UserHubActions: connectionId is required');
      this.apiKey = String(options.apiKey);
      this.connectionId = String(options.connectionId);
      this.baseUrl = String(options.baseUrl || (globalThis.__host && globalThis.__host.userhubBaseURL) || 'https://api.userhub.com')
        .replace(/\/+$/, '');
    }

    async postLogin(event) {
      const user = (event && event.user) || {};
      if (!user.user_id) { console.warn('UserHubActions: the event has no user.user_id'); return; }
      const first = event.stats && Number(event.stats.logins_count) <= 1;
      const url = `${this.baseUrl}/admin/v1/users/${encodeURIComponent(user.user_id)}@${encodeURIComponent(this.connectionId)}:event`;
      const request = fetch(url, {
        method: 'POST',
        headers: { Authorization: `Bearer ${this.apiKey}`, 'Content-Type': 'application/json', 'UserHub-Api-Version': '2025-05-01' },
        body: JSON.stringify({ type: first ? 'SIGNUP' : 'SIGNIN' }),
      }).then(async (response) => {
        if (!response.ok) console.warn(`UserHubActions: the directory answered ${response.status}: ${await response.text()}`);
      }, (error) => console.warn(`UserHubActions: the directory is unreachable: ${error && error.message}`));
      let timer;
      const limit = new Promise((resolve) => { timer = setTimeout(() => { console.warn('UserHubActions: no answer within 2.5 s, going on'); resolve(); }, 2500); });
      await Promise.race([request, limit]);
      clearTimeout(timer);
    }
  }

  // axios, the common API, over the same bounded fetch: axios(config), request/get/delete/head/options(url, config),
  // post/put/patch(url, data, config), create(defaults), defaults.headers; responses {data, status, statusText,
  // headers, config}; a status outside 2xx (or validateStatus) rejects with an error carrying `response`.
  const makeAxios = (instanceDefaults) => {
    const defaults = Object.assign({ headers: {}, timeout: 0 }, instanceDefaults || {});
    defaults.headers = Object.assign({}, defaults.headers);
    const failure = (message, code, config, response) => {
      const error = new Error(message);
      error.name = 'AxiosError';
      error.isAxiosError = true;
      error.code = code;
      error.config = config;
      if (response) { error.response = response; error.status = response.status; }
      error.toJSON = () => ({ message, name: 'AxiosError', code, status: response ? response.status : undefined });
      return error;
    };
    const request = async (config) => {
      config = Object.assign({}, defaults, config || {});
      config.headers = Object.assign({}, defaults.headers, (config && config.headers) || {});
      const method = String(config.method || 'get').toUpperCase();
      let url = String(config.url || '');
      if (config.baseURL && !/^[a-z][a-z0-9+.-]*:/i.test(url)) url = String(config.baseURL).replace(/\/+$/, '') + '/' + url.replace(/^\/+/, '');
      if (config.params) {
        const query = new URLSearchParams();
        Object.keys(config.params).forEach((key) => {
          const value = config.params[key];
          if (value === undefined || value === null) return;
          (Array.isArray(value) ? value : [value]).forEach((item) => query.append(key, item instanceof Date ? item.toISOString() : String(item)));
        });
        const text = query.toString();
        if (text) url += (url.includes('?') ? '&' : '?') + text;
      }
      const headers = {};
      Object.keys(config.headers).forEach((key) => { if (config.headers[key] !== undefined) headers[key] = String(config.headers[key]); });
      const has = (name) => Object.keys(headers).some((key) => key.toLowerCase() === name);
      let body = config.data;
      if (body instanceof URLSearchParams) {
        body = body.toString();
        if (!has('content-type')) headers['Content-Type'] = 'application/x-www-form-urlencoded';
      } else if (body !== undefined && body !== null && typeof body === 'object') {
        body = JSON.stringify(body);
        if (!has('content-type')) headers['Content-Type'] = 'application/json';
      }
      if (!has('accept')) headers.Accept = 'application/json, text/plain, */*';
      const sent = fetch(url, { method, headers, body });
      let timer;
      const limited = config.timeout > 0
        ? Promise.race([sent, new Promise((_, reject) => { timer = setTimeout(() => reject(failure(`timeout of ${config.timeout}ms exceeded`, 'ECONNABORTED', config)), config.timeout); })])
        : sent;
      let raw;
      try { raw = await limited; } catch (error) {
        if (error && error.isAxiosError) throw error;
        throw failure(error && error.message ? error.message : String(error), 'ERR_NETWORK', config);
      } finally { clearTimeout(timer); }
      const textBody = await raw.text();
      let data = textBody;
      if (config.responseType !== 'text' && textBody !== '') { try { data = JSON.parse(textBody); } catch (e) { data = textBody; } }
      const response = { data, status: raw.status, statusText: raw.statusText, headers: raw.headers.raw(), config, request: {} };
      const valid = typeof config.validateStatus === 'function' ? config.validateStatus(raw.status) : raw.status >= 200 && raw.status < 300;
      if (!valid) throw failure(`Request failed with status code ${raw.status}`, raw.status >= 500 ? 'ERR_BAD_RESPONSE' : 'ERR_BAD_REQUEST', config, response);
      return response;
    };
    const instance = (configOrUrl, config) => (typeof configOrUrl === 'string' ? request(Object.assign({}, config, { url: configOrUrl })) : request(configOrUrl));
    instance.request = request;
    instance.defaults = defaults;
    ['get', 'delete', 'head', 'options'].forEach((method) => { instance[method] = (url, config) => request(Object.assign({}, config, { method, url })); });
    ['post', 'put', 'patch'].forEach((method) => { instance[method] = (url, data, config) => request(Object.assign({}, config, { method, url, data })); });
    instance.create = (more) => makeAxios(Object.assign({}, defaults, more || {}, { headers: Object.assign({}, defaults.headers, (more && more.headers) || {}) }));
    instance.isAxiosError = (value) => !!(value && value.isAxiosError);
    instance.interceptors = { request: { use() { return 0; }, eject() {} }, response: { use() { return 0; }, eject() {} } };
    instance.default = instance;
    return instance;
  };
  const axios = makeAxios();

  // jwt-decode (v3's default export and v4's named one): a token's payload, or with {header: true} its header,
  // without verifying anything; InvalidTokenError for what is not a JWT.
  class InvalidTokenError extends Error { constructor(message) { super(message); this.name = 'InvalidTokenError'; } }
  const jwtDecode = (token, options) => {
    if (typeof token !== 'string') throw new InvalidTokenError('Invalid token specified: must be a string');
    const position = options && options.header === true ? 0 : 1;
    const part = token.split('.')[position];
    if (typeof part !== 'string' || part === '') throw new InvalidTokenError(`Invalid token specified: missing part #${position + 1}`);
    let decoded;
    try { decoded = native.base64urlDecode(part); } catch (e) { throw new InvalidTokenError(`Invalid token specified: invalid base64 for part #${position + 1} (${e.message})`); }
    try { return JSON.parse(decoded); } catch (e) { throw new InvalidTokenError(`Invalid token specified: invalid json for part #${position + 1} (${e.message})`); }
  };
  jwtDecode.jwtDecode = jwtDecode;
  jwtDecode.default = jwtDecode;
  jwtDecode.InvalidTokenError = InvalidTokenError;

  // auth0 (node-auth0): ManagementClient over the same bounded fetch, with client credentials. Both of its API
  // styles: v4's resources (`management.users.get({id})` answering {data, headers, status, statusText}) and v3's
  // flat methods (`management.getUser({id})` answering the data, or calling back). Tessera's own Management API is
  // reached at the issuer's scheme (plain http on loopback); any other domain over https.
  const host = globalThis.__host || {};
  class ManagementError extends Error {
    constructor(status, body) {
      const fields = body && typeof body === 'object' ? body : {};
      super(fields.message || `Request failed with status code ${status}`);
      this.name = fields.error || 'ManagementApiError';
      this.statusCode = status;
      this.error = fields.error;
      this.errorCode = fields.errorCode;
      this.body = body;
    }
  }
  class ManagementClient {
    constructor(options) {
      options = options || {};
      if (!options.domain) throw new Error('ManagementClient: domain is required');
      const domain = String(options.domain).replace(/\/+$/, '');
      let own = null;
      const issuer = host.invocation && host.invocation.issuer;
      try { own = issuer ? new URL(issuer) : null; } catch (e) { own = null; }
      this.baseURL = /^https?:\/\//i.test(domain) ? domain : `${own && own.host === domain.toLowerCase() ? own.protocol : 'https:'}//${domain}`;
      this.clientId = options.clientId;
      this.clientSecret = options.clientSecret;
      this.accessToken = options.token;
      this.audience = options.audience || `${this.baseURL}/api/v2/`;
      if (!this.accessToken && (!this.clientId || !this.clientSecret)) throw new Error('ManagementClient: clientId and clientSecret (or token) are required');
      const call = (method, path) => (params, body) => this.request(method, path(params || {}), body);
      const id = (p) => encodeURIComponent(p.id);
      const query = (p, names) => {
        const q = new URLSearchParams();
        Object.keys(p).forEach((key) => { if (p[key] !== undefined && p[key] !== null && (!names || names.includes(key))) q.append(key, String(p[key])); });
        const text = q.toString();
        return text ? `?${text}` : '';
      };
      this.users = {
        get: call('GET', (p) => `users/${id(p)}`),
        getAll: (p) => this.request('GET', `users${query(p || {})}`),
        update: call('PATCH', (p) => `users/${id(p)}`),
        delete: call('DELETE', (p) => `users/${id(p)}`),
        getRoles: call('GET', (p) => `users/${id(p)}/roles`),
        assignRoles: call('POST', (p) => `users/${id(p)}/roles`),
        deleteRoles: call('DELETE', (p) => `users/${id(p)}/roles`),
        getAuthenticationMethods: call('GET', (p) => `users/${id(p)}/authentication-methods`),
        deleteAuthenticationMethods: call('DELETE', (p) => `users/${id(p)}/authentication-methods`),
      };
      this.usersByEmail = { getByEmail: (p) => this.request('GET', `users-by-email${query(p || {}, ['email', 'fields', 'include_fields'])}`) };
      this.roles = {
        getAll: (p) => this.request('GET', `roles${query(p || {})}`),
        get: call('GET', (p) => `roles/${id(p)}`),
        getUsers: call('GET', (p) => `roles/${id(p)}/users`),
        assignUsers: call('POST', (p) => `roles/${id(p)}/users`),
      };
      // v3: the same calls, answering the data itself (or through a Node-style callback).
      const flat = (fn) => (...args) => {
        const callback = typeof args[args.length - 1] === 'function' ? args.pop() : null;
        const answer = fn(...args).then((response) => response.data);
        if (!callback) return answer;
        answer.then((data) => callback(null, data), (error) => callback(error));
        return undefined;
      };
      Object.assign(this, {
        getUser: flat(this.users.get), getUsers: flat(this.users.getAll), updateUser: flat(this.users.update),
        deleteUser: flat(this.users.delete), getUserRoles: flat(this.users.getRoles),
        assignRolestoUser: flat(this.users.assignRoles), assignRolesToUser: flat(this.users.assignRoles),
        removeRolesFromUser: flat(this.users.deleteRoles), getUsersByEmail: flat((email) => this.usersByEmail.getByEmail({ email })),
        updateAppMetadata: flat((p, metadata) => this.users.update(p, { app_metadata: metadata })),
        updateUserMetadata: flat((p, metadata) => this.users.update(p, { user_metadata: metadata })),
        getRoles: flat(this.roles.getAll), getRole: flat(this.roles.get),
      });
    }

    async token() {
      if (this.accessToken) return this.accessToken;
      const response = await fetch(`${this.baseURL}/oauth/token`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ grant_type: 'client_credentials', client_id: this.clientId, client_secret: this.clientSecret, audience: this.audience }),
      });
      const text = await response.text();
      let body = null;
      try { body = JSON.parse(text); } catch (e) { body = { message: text }; }
      if (!response.ok) throw new ManagementError(response.status, { error: body.error, message: body.error_description || body.message || 'client credentials were refused' });
      this.accessToken = body.access_token;
      return this.accessToken;
    }

    async request(method, path, body) {
      const headers = { Authorization: `Bearer ${await this.token()}`, Accept: 'application/json' };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const response = await fetch(`${this.baseURL}/api/v2/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await response.text();
      let data = text === '' ? undefined : text;
      try { if (text !== '') data = JSON.parse(text); } catch (e) { data = text; }
      if (!response.ok) throw new ManagementError(response.status, data);
      return { data, headers: response.headers, status: response.status, statusText: response.statusText };
    }
  }
  const auth0 = { ManagementClient, ManagementApiError: ManagementError };

  // Request and Response, as Node 18 has them globally (bodies are text: what Actions send and read).
  globalThis.Request = class Request {
    constructor(input, init) {
      init = init || {};
      const from = input instanceof Request ? input : null;
      this.url = from ? from.url : new URL(String(input)).href;
      this.method = String(init.method || (from && from.method) || 'GET').toUpperCase();
      this.headers = new Headers(init.headers || (from && from.headers) || {});
      this.bodyText = init.body !== undefined ? (init.body === null ? null : String(init.body)) : (from ? from.bodyText : null);
      this.signal = init.signal || (from && from.signal) || undefined;
    }
    async text() { return this.bodyText === null ? '' : this.bodyText; }
    async json() { return JSON.parse(await this.text()); }
    clone() { return new Request(this); }
  };
  globalThis.Response = class Response {
    constructor(body, init) {
      init = init || {};
      this.bodyText = body === undefined || body === null ? '' : (typeof body === 'string' ? body : String(body));
      this.status = init.status === undefined ? 200 : Number(init.status);
      this.statusText = init.statusText || '';
      this.headers = new Headers(init.headers || {});
      this.ok = this.status >= 200 && this.status < 300;
      this.bodyUsed = false;
    }
    static json(data, init) {
      const response = new Response(JSON.stringify(data), init);
      if (!response.headers.has('content-type')) response.headers.set('content-type', 'application/json');
      return response;
    }
    async text() { if (this.bodyUsed) throw new TypeError('body used already'); this.bodyUsed = true; return this.bodyText; }
    async json() { return JSON.parse(await this.text()); }
    clone() { return new Response(this.bodyText, { status: this.status, statusText: this.statusText, headers: this.headers }); }
  };

  // Web Crypto, as far as Actions use it: randomUUID, getRandomValues and subtle.digest.
  const subtleNames = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
  const webcrypto = {
    randomUUID: () => crypto.randomUUID(),
    getRandomValues(array) {
      if (!ArrayBuffer.isView(array)) throw new TypeError('getRandomValues needs an integer typed array');
      if (array.byteLength > 65536) throw new RangeError('getRandomValues takes at most 65536 bytes');
      new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(crypto.randomBytes(array.byteLength));
      return array;
    },
    subtle: {
      async digest(algorithm, data) {
        const name = subtleNames[String(algorithm && algorithm.name ? algorithm.name : algorithm).toUpperCase()];
        if (!name) throw new Error(`Unrecognized algorithm name: ${algorithm && algorithm.name ? algorithm.name : algorithm}`);
        const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        return Uint8Array.from(Buffer.from(native.digest(name, toHex(bytes)), 'hex')).buffer;
      },
    },
  };
  globalThis.crypto = webcrypto;
  crypto.webcrypto = webcrypto;
  crypto.getRandomValues = webcrypto.getRandomValues;
  crypto.subtle = webcrypto.subtle;

  // jose: JWTs and JWKs the way its v4/v5 API reads. HMAC keys are bytes (Uint8Array); RSA keys are PEM (importSPKI,
  // importPKCS8) or JWKs (importJWK, createRemoteJWKSet, which fetches once per execution).
  const joseError = (name, code, message, extra) => Object.assign(new Error(message), { name, code }, extra || {});
  const b64u = {
    encode: (input) => Buffer.from(typeof input === 'string' ? utf8Encode(input) : Array.from(input)).toString('base64url'),
    decode: (input) => new Uint8Array(fromBase64(String(input))),
  };
  const joseTime = (value, now, name) => {
    if (typeof value === 'number') return Math.floor(value);
    if (value instanceof Date) return Math.floor(value.getTime() / 1000);
    const match = /^\s*([+-]?\d+(?:\.\d+)?)\s*([a-z]+)\s*(ago)?\s*$/i.exec(String(value));
    if (!match || !(match[2].toLowerCase() in units)) throw new TypeError(`Invalid time period format for ${name}`);
    const delta = Math.round(parseFloat(match[1]) * units[match[2].toLowerCase()]);
    return match[3] ? now - delta : now + delta;
  };
  const keyKinds = { hmac: 'secret', pem: 'pem', jwk: 'jwk' };
  const asKey = (key) => {
    if (key instanceof Uint8Array) return { kind: keyKinds.hmac, hex: toHex(key) };
    if (key && key.__joseKey) return key;
    throw new TypeError('Key must be a Uint8Array (HS*) or a key from importSPKI, importPKCS8, importJWK or createRemoteJWKSet');
  };
  const joseSign = (alg, key, header, payload) => {
    const input = `${b64u.encode(stringify(header))}.${b64u.encode(stringify(payload))}`;
    if (/^HS(256|384|512)$/.test(alg)) {
      if (key.kind !== keyKinds.hmac) throw new TypeError(`${alg} needs a Uint8Array secret`);
      return `${input}.${Buffer.from(native.hmac(`sha${alg.slice(2)}`, key.hex, toHex(utf8Encode(input))), 'hex').toString('base64url')}`;
    }
    if (/^RS(256|384|512)$/.test(alg) && key.kind === keyKinds.pem) return native.jwsSign(alg, key.pem, stringify(header), stringify(payload));
    throw new TypeError(`Tessera's jose signs HS256/384/512, and RS256/384/512 with a PKCS#8 PEM key (not ${alg})`);
  };
  const joseVerifySignature = (alg, key, token) => {
    const [header, payload, signature] = token.split('.');
    if (/^HS(256|384|512)$/.test(alg) && key.kind === keyKinds.hmac) {
      const expected = Buffer.from(native.hmac(`sha${alg.slice(2)}`, key.hex, toHex(utf8Encode(`${header}.${payload}`))), 'hex').toString('base64url');
      let diff = expected.length ^ signature.length;
      for (let i = 0; i < Math.min(expected.length, signature.length); i++) diff |= expected.charCodeAt(i) ^ signature.charCodeAt(i);
      return diff === 0;
    }
    if (/^RS(256|384|512)$/.test(alg) && key.kind === keyKinds.pem) return native.jwsVerify(alg, key.pem, token);
    if (/^RS(256|384|512)$/.test(alg) && key.kind === keyKinds.jwk) return native.jwsVerifyJWK(alg, key.n, key.e, token);
    return false;
  };
  const decodeProtectedHeader = (token) => {
    const part = String(token).split('.')[0];
    try { return parse(utf8Decode(Array.from(b64u.decode(part)))); } catch (e) { throw joseError('JWTInvalid', 'ERR_JWT_INVALID', 'Invalid Token or Protected Header formatting'); }
  };
  const decodeJwt = (token) => {
    const parts = String(token).split('.');
    if (parts.length !== 3) throw joseError('JWTInvalid', 'ERR_JWT_INVALID', 'Invalid JWT');
    let claims;
    try { claims = parse(utf8Decode(Array.from(b64u.decode(parts[1])))); } catch (e) { throw joseError('JWTInvalid', 'ERR_JWT_INVALID', 'Failed to parse the decoded payload as JSON'); }
    if (!claims || typeof claims !== 'object' || Array.isArray(claims)) throw joseError('JWTInvalid', 'ERR_JWT_INVALID', 'Invalid JWT Claims Set');
    return claims;
  };
  class SignJWT {
    constructor(payload) { this.payload = Object.assign({}, payload || {}); this.header = {}; }
    setProtectedHeader(header) { this.header = Object.assign({}, header); return this; }
    setIssuer(value) { this.payload.iss = value; return this; }
    setSubject(value) { this.payload.sub = value; return this; }
    setAudience(value) { this.payload.aud = value; return this; }
    setJti(value) { this.payload.jti = value; return this; }
    setIssuedAt(value) { this.payload.iat = value === undefined ? Math.floor(Date.now() / 1000) : joseTime(value, Math.floor(Date.now() / 1000), 'iat'); return this; }
    setExpirationTime(value) { this.payload.exp = joseTime(value, Math.floor(Date.now() / 1000), 'exp'); return this; }
    setNotBefore(value) { this.payload.nbf = joseTime(value, Math.floor(Date.now() / 1000), 'nbf'); return this; }
    async sign(key) {
      if (!this.header.alg) throw joseError('JWTInvalid', 'ERR_JWS_INVALID', 'JWS "alg" (Algorithm) Header Parameter missing or invalid');
      return joseSign(this.header.alg, asKey(key), this.header, this.payload);
    }
  }
  const jwtVerify = async (token, keyOrResolver, options) => {
    options = options || {};
    token = String(token);
    const header = decodeProtectedHeader(token);
    const claims = decodeJwt(token);
    if (options.algorithms && !options.algorithms.includes(header.alg)) {
      throw joseError('JOSEAlgNotAllowed', 'ERR_JOSE_ALG_NOT_ALLOWED', '"alg" (Algorithm) Header Parameter value not allowed');
    }
    const key = asKey(typeof keyOrResolver === 'function' ? await keyOrResolver(header, { payload: claims }) : keyOrResolver);
    if (!joseVerifySignature(header.alg, key, token)) throw joseError('JWSSignatureVerificationFailed', 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'signature verification failed');
    const now = Math.floor((options.currentDate ? options.currentDate.getTime() : Date.now()) / 1000);
    const tolerance = options.clockTolerance === undefined ? 0 : joseTime(options.clockTolerance, 0, 'clockTolerance');
    const claimError = (message, claim, reason) => joseError('JWTClaimValidationFailed', 'ERR_JWT_CLAIM_VALIDATION_FAILED', message, { claim, reason, payload: claims });
    if (typeof claims.exp === 'number' && claims.exp <= now - tolerance) {
      throw joseError('JWTExpired', 'ERR_JWT_EXPIRED', '"exp" claim timestamp check failed', { claim: 'exp', reason: 'check_failed', payload: claims });
    }
    if (typeof claims.nbf === 'number' && claims.nbf > now + tolerance) throw claimError('"nbf" claim timestamp check failed', 'nbf', 'check_failed');
    if (options.issuer !== undefined && ![].concat(options.issuer).includes(claims.iss)) throw claimError('unexpected "iss" claim value', 'iss', 'check_failed');
    if (options.audience !== undefined && ![].concat(options.audience).some((a) => [].concat(claims.aud === undefined ? [] : claims.aud).includes(a))) {
      throw claimError('unexpected "aud" claim value', 'aud', 'check_failed');
    }
    if (options.subject !== undefined && claims.sub !== options.subject) throw claimError('unexpected "sub" claim value', 'sub', 'check_failed');
    if (options.maxTokenAge !== undefined && (typeof claims.iat !== 'number' || now - claims.iat > joseTime(options.maxTokenAge, 0, 'maxTokenAge'))) {
      throw claimError('"iat" claim timestamp check failed (too far in the past)', 'iat', 'check_failed');
    }
    return { payload: claims, protectedHeader: header, key };
  };
  const pemKey = (pem, expected) => {
    if (typeof pem !== 'string' || !new RegExp(`-----BEGIN ${expected}-----`).test(pem)) throw new TypeError(`"pem" must be a ${expected} PEM string`);
    return { __joseKey: true, kind: keyKinds.pem, pem };
  };
  const importJWK = async (jwk) => {
    if (jwk && jwk.kty === 'oct' && typeof jwk.k === 'string') return b64u.decode(jwk.k);
    if (jwk && jwk.kty === 'RSA' && typeof jwk.n === 'string' && typeof jwk.e === 'string') return { __joseKey: true, kind: keyKinds.jwk, n: jwk.n, e: jwk.e, kid: jwk.kid };
    throw new TypeError("Tessera's jose imports oct and RSA public JWKs");
  };
  const createRemoteJWKSet = (url) => {
    let keys = null;
    return async (header) => {
      if (!keys) {
        const response = await fetch(String(url));
        if (!response.ok) throw joseError('JOSEError', 'ERR_JOSE_GENERIC', `Expected 200 OK from the JSON Web Key Set HTTP response, got ${response.status}`);
        keys = ((await response.json()) || {}).keys || [];
      }
      const found = keys.filter((key) => key.kty === 'RSA' && (header.kid === undefined || key.kid === header.kid));
      if (found.length === 0) throw joseError('JWKSNoMatchingKey', 'ERR_JWKS_NO_MATCHING_KEY', 'no applicable key found in the JSON Web Key Set');
      return importJWK(found[0]);
    };
  };
  const jose = {
    SignJWT, jwtVerify, decodeJwt, decodeProtectedHeader, importJWK, createRemoteJWKSet, base64url: b64u,
    importSPKI: async (pem) => pemKey(pem, 'PUBLIC KEY'),
    importPKCS8: async (pem) => pemKey(pem, 'PRIVATE KEY'),
    errors: {},
  };
  ['JWTExpired', 'JWTClaimValidationFailed', 'JWSSignatureVerificationFailed', 'JWTInvalid', 'JOSEAlgNotAllowed', 'JWKSNoMatchingKey'].forEach((name) => {
    jose.errors[name] = { [Symbol.hasInstance]: (value) => !!value && value.name === name };
  });

  // ipaddr.js: parse, validate and classify IPv4 and IPv6 addresses, match them against CIDR ranges.
  const ipv4Ranges = [
    ['unspecified', [0, 0, 0, 0], 8], ['broadcast', [255, 255, 255, 255], 32], ['multicast', [224, 0, 0, 0], 4],
    ['linkLocal', [169, 254, 0, 0], 16], ['loopback', [127, 0, 0, 0], 8], ['carrierGradeNat', [100, 64, 0, 0], 10],
    ['private', [10, 0, 0, 0], 8], ['private', [172, 16, 0, 0], 12], ['private', [192, 168, 0, 0], 16],
    ['reserved', [192, 0, 0, 0], 24], ['reserved', [192, 0, 2, 0], 24], ['reserved', [192, 88, 99, 0], 24],
    ['reserved', [198, 18, 0, 0], 15], ['reserved', [198, 51, 100, 0], 24], ['reserved', [203, 0, 113, 0], 24],
    ['reserved', [240, 0, 0, 0], 4],
  ];
  const ipv6Ranges = [
    ['unspecified', [0, 0, 0, 0, 0, 0, 0, 0], 128], ['linkLocal', [0xfe80, 0, 0, 0, 0, 0, 0, 0], 10],
    ['multicast', [0xff00, 0, 0, 0, 0, 0, 0, 0], 8], ['loopback', [0, 0, 0, 0, 0, 0, 0, 1], 128],
    ['uniqueLocal', [0xfc00, 0, 0, 0, 0, 0, 0, 0], 7], ['ipv4Mapped', [0, 0, 0, 0, 0, 0xffff, 0, 0], 96],
    ['rfc6145', [0, 0, 0, 0, 0xffff, 0, 0, 0], 96], ['rfc6052', [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96],
    ['6to4', [0x2002, 0, 0, 0, 0, 0, 0, 0], 16], ['teredo', [0x2001, 0, 0, 0, 0, 0, 0, 0], 32],
    ['reserved', [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32],
  ];
  const partsMatch = (a, b, bitsPerPart, prefix) => {
    for (let i = 0; prefix > 0; i++, prefix -= bitsPerPart) {
      const shift = Math.max(0, bitsPerPart - prefix);
      if ((a[i] >> shift) !== (b[i] >> shift)) return false;
    }
    return true;
  };
  class IPv4 {
    constructor(octets) {
      if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) throw new Error('ipaddr: ipv4 octet count should be 4, each 0..255');
      this.octets = octets.slice();
    }
    kind() { return 'ipv4'; }
    toString() { return this.octets.join('.'); }
    toNormalizedString() { return this.toString(); }
    toByteArray() { return this.octets.slice(); }
    match(other, bits) {
      if (Array.isArray(other)) [other, bits] = other;
      if (other.kind() !== 'ipv4') throw new Error('ipaddr: cannot match ipv4 address with non-ipv4 one');
      return partsMatch(this.octets, other.octets, 8, bits);
    }
    range() { const found = ipv4Ranges.find(([, parts, bits]) => partsMatch(this.octets, parts, 8, bits)); return found ? found[0] : 'unicast'; }
    prefixLengthFromSubnetMask() {
      let bits = 0, ended = false;
      for (const octet of this.octets) for (let b = 7; b >= 0; b--) { const on = (octet >> b) & 1; if (on && ended) return null; if (on) bits++; else ended = true; }
      return bits;
    }
    toIPv4MappedAddress() { return new IPv6([0, 0, 0, 0, 0, 0xffff, (this.octets[0] << 8) | this.octets[1], (this.octets[2] << 8) | this.octets[3]]); }
  }
  class IPv6 {
    constructor(parts, zoneId) {
      if (parts.length !== 8 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 0xffff)) throw new Error('ipaddr: ipv6 part count should be 8, each 0..ffff');
      this.parts = parts.slice();
      this.zoneId = zoneId;
    }
    kind() { return 'ipv6'; }
    toNormalizedString() { return this.parts.map((p) => p.toString(16)).join(':') + (this.zoneId ? `%${this.zoneId}` : ''); }
    toString() {
      let best = -1, bestLength = 0;
      for (let i = 0; i < 8;) {
        if (this.parts[i] !== 0) { i++; continue; }
        let j = i; while (j < 8 && this.parts[j] === 0) j++;
        if (j - i > bestLength && j - i > 1) { best = i; bestLength = j - i; }
        i = j;
      }
      const hex = this.parts.map((p) => p.toString(16));
      const text = best < 0 ? hex.join(':') : `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLength).join(':')}`;
      return text + (this.zoneId ? `%${this.zoneId}` : '');
    }
    toByteArray() { const bytes = []; this.parts.forEach((p) => bytes.push(p >> 8, p & 0xff)); return bytes; }
    match(other, bits) {
      if (Array.isArray(other)) [other, bits] = other;
      if (other.kind() !== 'ipv6') throw new Error('ipaddr: cannot match ipv6 address with non-ipv6 one');
      return partsMatch(this.parts, other.parts, 16, bits);
    }
    range() { const found = ipv6Ranges.find(([, parts, bits]) => partsMatch(this.parts, parts, 16, bits)); return found ? found[0] : 'unicast'; }
    isIPv4MappedAddress() { return this.range() === 'ipv4Mapped'; }
    toIPv4Address() {
      if (!this.isIPv4MappedAddress()) throw new Error('ipaddr: trying to convert a generic ipv6 address to ipv4');
      return new IPv4([this.parts[6] >> 8, this.parts[6] & 0xff, this.parts[7] >> 8, this.parts[7] & 0xff]);
    }
  }
  const parseIPv4 = (text) => {
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) return null;
    const octets = text.split('.').map(Number);
    return octets.every((o) => o <= 255) ? octets : null;
  };
  const parseIPv6 = (text) => {
    let zoneId;
    const percent = text.indexOf('%');
    if (percent >= 0) { zoneId = text.slice(percent + 1); text = text.slice(0, percent); }
    let tail = [];
    const lastColon = text.lastIndexOf(':');
    if (text.slice(lastColon + 1).includes('.')) {
      const v4 = parseIPv4(text.slice(lastColon + 1));
      if (!v4) return null;
      tail = [(v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]];
      // Keep a `::` that ends right before the IPv4 part; drop the single colon otherwise.
      text = text[lastColon - 1] === ':' ? text.slice(0, lastColon + 1) : text.slice(0, lastColon);
    }
    const halves = text.split('::');
    if (halves.length > 2) return null;
    const group = (part) => (part === '' ? [] : part.split(':'));
    const hex = (value) => (/^[0-9a-f]{1,4}$/i.test(value) ? parseInt(value, 16) : NaN);
    const head = group(halves[0]).map(hex), rest = halves.length === 2 ? group(halves[1]).map(hex) : [];
    const known = head.length + rest.length + tail.length;
    if ([...head, ...rest].some(isNaN)) return null;
    if (halves.length === 1 && known !== 8) return null;
    if (halves.length === 2 && known > 7) return null;
    const parts = halves.length === 2 ? [...head, ...new Array(8 - known).fill(0), ...rest, ...tail] : [...head, ...tail];
    return parts.length === 8 ? { parts, zoneId } : null;
  };
  const ipaddr = {
    IPv4: Object.assign(IPv4, {
      isValid: (text) => parseIPv4(String(text)) !== null,
      isValidFourPartDecimal: (text) => parseIPv4(String(text)) !== null,
      parse: (text) => { const octets = parseIPv4(String(text)); if (!octets) throw new Error('ipaddr: the address has neither IPv6 nor IPv4 format'); return new IPv4(octets); },
      subnetMaskFromPrefixLength: (bits) => new IPv4([0, 1, 2, 3].map((i) => (0xff << (8 - Math.max(0, Math.min(8, bits - i * 8)))) & 0xff)),
    }),
    IPv6: Object.assign(IPv6, {
      isValid: (text) => parseIPv6(String(text)) !== null,
      parse: (text) => { const found = parseIPv6(String(text)); if (!found) throw new Error('ipaddr: the address has neither IPv6 nor IPv4 format'); return new IPv6(found.parts, found.zoneId); },
    }),
    isValid: (text) => ipaddr.IPv4.isValid(text) || ipaddr.IPv6.isValid(text),
    parse(text) {
      text = String(text);
      if (ipaddr.IPv4.isValid(text)) return ipaddr.IPv4.parse(text);
      if (ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text);
      throw new Error('ipaddr: the address has neither IPv6 nor IPv4 format');
    },
    process(text) { const address = ipaddr.parse(text); return address.kind() === 'ipv6' && address.isIPv4MappedAddress() ? address.toIPv4Address() : address; },
    parseCIDR(text) {
      const match = /^(.+)\/(\d{1,3})$/.exec(String(text));
      if (match) {
        const address = ipaddr.parse(match[1]), bits = Number(match[2]);
        if (bits <= (address.kind() === 'ipv4' ? 32 : 128)) {
          const range = [address, bits];
          Object.defineProperty(range, 'toString', { value: () => `${address.toString()}/${bits}` });
          return range;
        }
      }
      throw new Error('ipaddr: string is not formatted like a CIDR range');
    },
    subnetMatch(address, rangeList, defaultName) {
      for (const name of Object.keys(rangeList)) {
        let ranges = rangeList[name];
        if (ranges[0] && !Array.isArray(ranges[0])) ranges = [ranges];
        for (const range of ranges) if (address.kind() === range[0].kind() && address.match(range)) return name;
      }
      return defaultName === undefined ? 'unicast' : defaultName;
    },
    fromByteArray(bytes) {
      if (bytes.length === 4) return new IPv4(Array.from(bytes));
      if (bytes.length === 16) return new IPv6(Array.from({ length: 8 }, (_, i) => (bytes[i * 2] << 8) | bytes[i * 2 + 1]));
      throw new Error('ipaddr: the binary input is neither an IPv6 nor IPv4 address');
    },
  };

  // Node core modules beyond crypto that Actions reach for.
  const querystring = {
    stringify: (object) => new URLSearchParams(Object.entries(object || {}).flatMap(([key, value]) => (Array.isArray(value) ? value.map((v) => [key, v]) : [[key, value]]))).toString(),
    parse: (text) => {
      const out = {};
      new URLSearchParams(String(text || '')).forEach((value, key) => {
        if (key in out) out[key] = [].concat(out[key], value); else out[key] = value;
      });
      return out;
    },
  };
  querystring.encode = querystring.stringify;
  querystring.decode = querystring.parse;

  const builtins = { jsonwebtoken, 'node-fetch': fetch, crypto, '@userhub/auth0-actions': { UserHubActions }, axios, 'jwt-decode': jwtDecode, auth0,
                     jose, 'ipaddr.js': ipaddr, buffer: { Buffer }, url: { URL, URLSearchParams }, querystring };
  // Node's core modules answer to `node:crypto` as well as `crypto`.
  const nodeCore = new Set(['crypto', 'buffer', 'url', 'querystring']);
  globalThis.require = function require(name) {
    name = String(name);
    const bare = name.startsWith('node:') && nodeCore.has(name.slice(5)) ? name.slice(5) : name;
    if (Object.prototype.hasOwnProperty.call(builtins, bare)) return builtins[bare];
    throw new Error(`Cannot find module '${name}': Tessera Actions provide ${Object.keys(builtins).join(', ')}`);
  };
  globalThis.require.available = Object.keys(builtins);

  const claimValue = (value) => (value === undefined ? null : parse(stringify(value)));
  // What the api needs beyond the event: whether a browser can be redirected, the issuer's host (a session token's
  // `iss`), and, when resuming, the state the browser came back with.
  const invocation = (globalThis.__host && globalThis.__host.invocation) || {};
  let currentEvent = {};
  const sessionTokenSeconds = 900;
  const redirectAPI = {
    sendUserTo(url, options) {
      const target = String(url);
      if (!/^https?:\/\/[^\s/?#]+/i.test(target)) {
        throw new TypeError(`api.redirect.sendUserTo needs an absolute http(s) URL, not "${target.slice(0, 200)}"`);
      }
      if (invocation.canRedirect !== true) {
        throw new Error('api.redirect.sendUserTo: this sign-in has no browser to redirect (check api.redirect.canRedirect() first)');
      }
      const query = {};
      const given = (options && options.query) || {};
      Object.keys(given).forEach((key) => { if (given[key] !== undefined && given[key] !== null) query[key] = String(given[key]); });
      outcome.redirect = { url: target, query };
    },
    canRedirect() { return invocation.canRedirect === true; },
    encodeToken(options) {
      options = options || {};
      if (typeof options.secret !== 'string' || options.secret.length === 0) throw new TypeError('api.redirect.encodeToken needs a secret');
      const lifetime = options.expiresInSeconds === undefined ? sessionTokenSeconds : Number(options.expiresInSeconds);
      if (!isFinite(lifetime) || lifetime <= 0) throw new TypeError('expiresInSeconds must be a positive number of seconds');
      const now = Math.floor(Date.now() / 1000);
      const user = currentEvent.user || {}, request = currentEvent.request || {};
      const claims = Object.assign({}, options.payload || {}, {
        iss: invocation.issuerHost, sub: user.user_id, iat: now, exp: now + Math.floor(lifetime), ip: request.ip,
      });
      return native.jwsSign('HS256', options.secret, stringify({ alg: 'HS256', typ: 'JWT' }), stringify(claims));
    },
    validateToken(options) {
      options = options || {};
      if (typeof options.secret !== 'string' || options.secret.length === 0) throw new TypeError('api.redirect.validateToken needs a secret');
      const name = options.tokenParameterName || 'session_token';
      const request = currentEvent.request || {};
      const token = (request.query && request.query[name]) || (request.body && request.body[name]);
      if (typeof token !== 'string' || token === '') throw new Error(`The session token is missing: no "${name}" parameter came back to /continue`);
      const claims = jsonwebtoken.verify(token, options.secret, { algorithms: ['HS256'] });
      if (typeof invocation.continueState !== 'string' || claims.state !== invocation.continueState) {
        throw new Error('The session token\'s state claim does not match the state this sign-in continued with');
      }
      return claims;
    },
  };
  // As on Auth0, every method of `api` (but the cache's, which answer with a result) returns `api`, so calls chain:
  // api.idToken.setCustomClaim('a', 1).idToken.setCustomClaim('b', 2).
  const api = {};
  const chained = (method) => function (...args) { method(...args); return api; };
  Object.assign(api, {
    idToken: { setCustomClaim: chained((name, value) => { outcome.idToken[String(name)] = claimValue(value); }) },
    accessToken: {
      setCustomClaim: chained((name, value) => { outcome.accessToken[String(name)] = claimValue(value); }),
      addScope: chained((scope) => { outcome.addScopes.push(String(scope)); }),
      removeScope: chained((scope) => { outcome.removeScopes.push(String(scope)); }),
    },
    user: {
      setAppMetadata: chained((name, value) => { outcome.appMetadata[String(name)] = claimValue(value); }),
      setUserMetadata: chained((name, value) => { outcome.userMetadata[String(name)] = claimValue(value); }),
    },
    access: { deny: chained((reason) => { outcome.deny = String(reason === undefined ? 'Access denied' : reason); }) },
    cache: cacheAPI,
    redirect: {
      sendUserTo: chained(redirectAPI.sendUserTo),
      canRedirect: redirectAPI.canRedirect,
      encodeToken: redirectAPI.encodeToken,
      validateToken: redirectAPI.validateToken,
    },
    // Authenticator apps (TOTP) are the factor Tessera has: 'any', 'otp', 'guardian' and 'google-authenticator' use it.
    multifactor: {
      enable: chained((provider, options) => {
        const name = provider === undefined ? 'any' : String(provider);
        if (!['any', 'otp', 'guardian', 'google-authenticator'].includes(name)) {
          throw new Error(`api.multifactor.enable('${name}'): Tessera provides authenticator apps (TOTP): use 'any', 'otp', 'guardian' or 'google-authenticator'`);
        }
        outcome.multifactor = { provider: name, allowRememberBrowser: !!(options && options.allowRememberBrowser) };
      }),
    },
    authentication: {
      recordMethod: chained((providerURL) => {
        const url = String(providerURL);
        if (!/^[a-z][a-z0-9+.-]*:\S+$/i.test(url)) throw new TypeError('api.authentication.recordMethod needs a URL naming the method');
        if (!outcome.recordedMethods.includes(url)) outcome.recordedMethods.push(url);
      }),
    },
    session: {
      revoke: chained((reason) => { outcome.revokeSession = String(reason === undefined ? 'The session was revoked' : reason); }),
    },
    // Rules never run on Tessera, so none was executed.
    rules: { wasExecuted: () => false },
  });

  // What Swift calls. It lives in this closure and is frozen on a read-only global, so action code can neither
  // replace it nor reach the outcome except through `api`.
  let current = { settled: true, error: 'the action was not run' };
  const timerWait = () => {
    let next = -1;
    timers.forEach(({ due }) => { const wait = Math.max(0, due - Date.now()); if (next < 0 || wait < next) next = wait; });
    return next;
  };
  const tessera = {
    run(handler, event, name) {
      const state = { settled: false, error: null };
      current = state;
      currentEvent = event || {};
      if (typeof handler !== 'function') {
        state.settled = true;
        // An action that redirects without handling the return simply goes on, as on Auth0.
        if (name !== 'onContinuePostLogin') state.error = `The action does not export ${name || 'onExecutePostLogin'}`;
        return;
      }
      Promise.resolve().then(() => handler(event, api)).then(
        () => { state.settled = true; },
        (error) => { state.settled = true; state.error = text(error); });
    },
    // `timer` is the wait in milliseconds until the next timer is due, or -1 when none is pending.
    stateJSON() { return stringify({ settled: current.settled === true, error: current.error === null ? null : String(current.error), timer: timerWait() }); },
    outcomeJSON() { return stringify(outcome); },
    // Runs the timers that are due, earliest first; one that throws fails the execution, as it would in Node.
    fireTimers() {
      const now = Date.now();
      const due = Array.from(timers.entries()).filter(([, timer]) => timer.due <= now).sort((a, b) => a[1].due - b[1].due || a[0] - b[0]);
      for (const [id, timer] of due) {
        if (!timers.delete(id)) continue;
        try { timer.callback(...timer.args); } catch (error) {
          if (!current.settled) { current.settled = true; current.error = text(error); }
        }
      }
    },
  };
  defineProperty(globalThis, '__tessera', { value: freeze(tessera), writable: false, configurable: false, enumerable: false });
})(__native, globalThis.__cacheSnapshot);
