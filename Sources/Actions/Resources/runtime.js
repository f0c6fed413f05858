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

  const builtins = { jsonwebtoken, 'node-fetch': fetch, crypto, '@userhub/auth0-actions': { UserHubActions }, axios, 'jwt-decode': jwtDecode, auth0 };
  // Node's core modules answer to `node:crypto` as well as `crypto`.
  const nodeCore = new Set(['crypto']);
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
