// A certified OpenID Provider (npm oidc-provider) on loopback for the end-to-end tests.
// Configuration comes from the environment; the first line on stdout is "listening <issuer>".
// Its devInteractions serve a login form (any login, any password) and a consent form.
import Provider from 'oidc-provider';

const port = Number(process.env.OP_PORT ?? '0');
const issuer = `http://127.0.0.1:${port}`;
const clientId = process.env.OP_CLIENT_ID;
const clientSecret = process.env.OP_CLIENT_SECRET;
const redirectUri = process.env.OP_REDIRECT_URI;
const emailDomain = process.env.OP_EMAIL_DOMAIN ?? 'acme.test';
// client_secret_basic (the default) or client_secret_post: the only method the provider then offers.
const authMethod = process.env.OP_AUTH_METHOD ?? 'client_secret_basic';
// "true" (default), "false" (a self-registered address) or "absent" (an IdP that never sends the claim).
const emailVerified = process.env.OP_EMAIL_VERIFIED ?? 'true';
const verifiedClaim = emailVerified === 'absent' ? {} : { email_verified: emailVerified === 'true' };
if (!port || !clientId || !clientSecret || !redirectUri) {
  console.error('set OP_PORT, OP_CLIENT_ID, OP_CLIENT_SECRET and OP_REDIRECT_URI');
  process.exit(2);
}

const accounts = {
  alice: { email: `alice@${emailDomain}`, ...verifiedClaim, name: 'Alice Liddell', given_name: 'Alice', family_name: 'Liddell' },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: authMethod,
  }],
  clientAuthMethods: [authMethod],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name'],
  },
  async findAccount(ctx, sub) {
    const profile = accounts[sub] ?? { email: `${sub}@${emailDomain}`, ...verifiedClaim, name: sub };
    return { accountId: sub, async claims() { return { sub, ...profile }; } };
  },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['test-only-cookie-key-' + Math.random()] },
  ttl: { AuthorizationCode: 60, Interaction: 600, Session: 600, Grant: 600, AccessToken: 600, IdToken: 600 },
});
provider.proxy = false;

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The test owns this process; when it goes away, so does the provider.
process.stdin.on('end', stop);
process.stdin.resume();
