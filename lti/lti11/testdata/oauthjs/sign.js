// Signs the cases on standard input with the oauth-1.0a npm package, an OAuth 1.0a implementation independent
// of ltipub's, and prints what it computed. Run by lti/lti11's oauth_vectors_test.go (npm ci first).
'use strict';
const crypto = require('crypto');
const OAuth = require('oauth-1.0a');

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const cases = JSON.parse(input);
  const out = cases.map((c) => {
    const alg = c.signature_method === 'HMAC-SHA256' ? 'sha256' : 'sha1';
    const oauth = OAuth({
      consumer: { key: c.consumer_key, secret: c.consumer_secret },
      signature_method: c.signature_method,
      hash_function: (base, key) => crypto.createHmac(alg, key).update(base).digest('base64'),
      body_hash_function: (body) => crypto.createHash(alg).update(body).digest('base64'),
    });
    oauth.getNonce = () => c.nonce;
    oauth.getTimeStamp = () => Number(c.timestamp);
    const request = { method: c.method, url: c.url, data: c.body !== undefined ? c.body : (c.data || {}) };
    if (c.body !== undefined) request.includeBodyHash = true;
    const token = c.token_key !== undefined ? { key: c.token_key, secret: c.token_secret } : undefined;
    const signed = oauth.authorize(request, token);
    const base = oauth.getBaseString(request, Object.fromEntries(Object.entries(signed).filter(([k]) => k !== 'oauth_signature')));
    return { name: c.name, signature: signed.oauth_signature, body_hash: signed.oauth_body_hash || '', base_string: base };
  });
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
});
