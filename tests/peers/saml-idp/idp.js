'use strict';
// A SAML 2.0 IdP that no one on this project wrote: samlify parses our AuthnRequest
// (HTTP-Redirect binding), builds the Response and signs it. This file only wires it to
// HTTP and "logs in" one fixed user without a browser.
//
// Environment:
//   IDP_PORT          loopback port to listen on (0 or unset: any free port)
//   IDP_KEY_FILE      PEM file with the signing private key (PKCS#8 or PKCS#1)
//   IDP_CERT_FILE     PEM file with the signing certificate
//   IDP_USER_EMAIL, IDP_USER_FIRST_NAME, IDP_USER_LAST_NAME, IDP_USER_GROUPS (comma-separated)
//   IDP_ENCRYPTION    a data encryption algorithm URI: encrypt the signed assertion to the SP's
//                     encryption certificate from its metadata (RSA-OAEP key transport)
//   IDP_WANT_AUTHN_REQUESTS_SIGNED=1  refuse AuthnRequests without a valid redirect signature
//   IDP_BINDINGS=post  the metadata lists only HTTP-POST for SSO and SLO (as some IdPs publish)
//
// Routes:
//   GET  /metadata   the IdP's metadata (entity ID = this URL)
//   PUT  /sp         register an SP by its metadata XML (body); answers 204
//   GET  /sso        SAMLRequest + RelayState (HTTP-Redirect) -> 200 auto-submitting form
//                    that POSTs SAMLResponse + RelayState to the SP's ACS (HTTP-POST)
//   POST /sso        the same for an AuthnRequest sent over HTTP-POST (form SAMLRequest)
//   GET  /initiate   ?sp=<SP entity ID>: an IdP-initiated (unsolicited) Response, same form
//   GET  /slo        Single Logout, HTTP-Redirect: our SP's signed LogoutRequest (samlify checks
//                    the query signature against the SP metadata certificate) -> 302 to the SP's
//                    SLO with a signed LogoutResponse; or the SP's LogoutResponse to /logout-user
//                    -> 200 JSON of what samlify read from it
//   POST /slo        the same for HTTP-POST (form SAMLRequest or SAMLResponse)
//   GET  /logout-user ?sp=<SP entity ID>&binding=redirect|post[&sessionIndex=..]: an IdP-initiated
//                    logout of the user: 200 JSON {url} (redirect) or {action, samlRequest,
//                    relayState} (post) for the browser to take to the SP's SLO endpoint
//   GET  /logouts    200 JSON: the LogoutRequests samlify accepted from SPs and the
//                    LogoutResponses it accepted, in order
//
// Prints one line `listening <port>` on stdout once it accepts connections.

const fs = require('node:fs');
const http = require('node:http');
const zlib = require('node:zlib');
const samlify = require('samlify');
const schemaValidator = require('@authenio/samlify-xmllint-wasm');

samlify.setSchemaValidator(schemaValidator);

const { namespace } = samlify.Constants;
const privateKey = fs.readFileSync(required('IDP_KEY_FILE'), 'utf8');
const signingCert = fs.readFileSync(required('IDP_CERT_FILE'), 'utf8');
const user = {
  email: required('IDP_USER_EMAIL'),
  firstName: process.env.IDP_USER_FIRST_NAME || '',
  lastName: process.env.IDP_USER_LAST_NAME || '',
  groups: (process.env.IDP_USER_GROUPS || '').split(',').map((g) => g.trim()).filter(Boolean),
};

// The Response as Okta-style IdPs shape it: one signed Assertion with an AuthnStatement and
// email/firstName/lastName/groups attributes. {Tags} are filled by samlify's replacer.
const loginResponseTemplate =
  '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{ID}" Version="2.0" IssueInstant="{IssueInstant}" Destination="{Destination}" InResponseTo="{InResponseTo}">' +
  '<saml:Issuer>{Issuer}</saml:Issuer><samlp:Status><samlp:StatusCode Value="{StatusCode}"/></samlp:Status>' +
  '<saml:Assertion xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="{AssertionID}" Version="2.0" IssueInstant="{IssueInstant}">' +
  '<saml:Issuer>{Issuer}</saml:Issuer>' +
  '<saml:Subject><saml:NameID Format="{NameIDFormat}">{NameID}</saml:NameID>' +
  '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="{SubjectConfirmationDataNotOnOrAfter}" Recipient="{SubjectRecipient}" InResponseTo="{InResponseTo}"/></saml:SubjectConfirmation></saml:Subject>' +
  '<saml:Conditions NotBefore="{ConditionsNotBefore}" NotOnOrAfter="{ConditionsNotOnOrAfter}"><saml:AudienceRestriction><saml:Audience>{Audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>' +
  '<saml:AuthnStatement AuthnInstant="{AuthnInstant}" SessionIndex="{SessionIndex}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>' +
  '<saml:AttributeStatement>' +
  '<saml:Attribute Name="email" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic"><saml:AttributeValue xsi:type="xs:string">{AttrEmail}</saml:AttributeValue></saml:Attribute>' +
  '<saml:Attribute Name="firstName" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic"><saml:AttributeValue xsi:type="xs:string">{AttrFirstName}</saml:AttributeValue></saml:Attribute>' +
  '<saml:Attribute Name="lastName" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic"><saml:AttributeValue xsi:type="xs:string">{AttrLastName}</saml:AttributeValue></saml:Attribute>' +
  '{GroupsAttribute}' +
  '</saml:AttributeStatement>' +
  '</saml:Assertion></samlp:Response>';

const postOnly = process.env.IDP_BINDINGS === 'post';
// The user's session at this IdP started this long ago: a request without ForceAuthn="true" is
// answered from it (AuthnInstant in the past), as real IdPs do; IDP_IGNORE_FORCE_AUTHN=1 plays an
// IdP that answers from the old session even when a fresh authentication was demanded.
const sessionAgeSeconds = Number(process.env.IDP_SESSION_AGE_SECONDS || '0');
const ignoreForceAuthn = process.env.IDP_IGNORE_FORCE_AUTHN === '1';
const serviceProviders = new Map(); // SP entity ID -> samlify ServiceProvider
const sessionIndexes = new Map(); // SP entity ID -> SessionIndex values issued, in order
const pendingLogouts = new Set(); // IDs of LogoutRequests this IdP sent
const logouts = { requests: [], responses: [] };
let idp;

const server = http.createServer((req, res) => {
  handle(req, res).catch((error) => {
    console.error('[saml-idp]', error && error.stack ? error.stack : error);
    send(res, 400, 'text/plain', String(error && error.message ? error.message : error));
  });
});

server.listen(Number(process.env.IDP_PORT || 0), '127.0.0.1', () => {
  const { port } = server.address();
  const base = `http://127.0.0.1:${port}`;
  idp = samlify.IdentityProvider({
    entityID: `${base}/metadata`,
    signingCert,
    privateKey,
    wantAuthnRequestsSigned: process.env.IDP_WANT_AUTHN_REQUESTS_SIGNED === '1',
    isAssertionEncrypted: Boolean(process.env.IDP_ENCRYPTION),
    dataEncryptionAlgorithm: process.env.IDP_ENCRYPTION || undefined,
    keyEncryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
    nameIDFormat: ['urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'],
    singleSignOnService: postOnly
      ? [{ Binding: namespace.binding.post, Location: `${base}/sso` }]
      : [{ Binding: namespace.binding.redirect, Location: `${base}/sso` }],
    singleLogoutService: postOnly
      ? [{ Binding: namespace.binding.post, Location: `${base}/slo` }]
      : [
        { Binding: namespace.binding.redirect, Location: `${base}/slo` },
        { Binding: namespace.binding.post, Location: `${base}/slo` },
      ],
    // Only signed logout messages are accepted, and the SP is told to expect ours signed.
    wantLogoutRequestSigned: true,
    wantLogoutResponseSigned: true,
    // No samlify attribute descriptors: the template carries the AttributeStatement itself.
    loginResponseTemplate: { context: loginResponseTemplate, attributes: [] },
  });
  process.stdout.write(`listening ${port}\n`);
});

async function handle(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (req.method === 'GET' && url.pathname === '/metadata') {
    return send(res, 200, 'application/samlmetadata+xml', idp.getMetadata());
  }
  if (req.method === 'PUT' && url.pathname === '/sp') {
    const metadata = await readBody(req);
    const sp = samlify.ServiceProvider({ metadata, wantLogoutRequestSigned: true, wantLogoutResponseSigned: true });
    serviceProviders.set(sp.entityMeta.getEntityID(), sp);
    return send(res, 204);
  }
  if (req.method === 'GET' && url.pathname === '/sso') {
    const query = Object.fromEntries(url.searchParams);
    if (!query.SAMLRequest) return send(res, 400, 'text/plain', 'SAMLRequest is missing');
    const sp = serviceProviders.get(requestIssuer(query.SAMLRequest));
    if (!sp) return send(res, 400, 'text/plain', 'the AuthnRequest comes from an SP this IdP does not know');

    // samlify validates the AuthnRequest against the SAML schemas, checks its signature when
    // required (over the query string exactly as sent, bindings §3.4.4.1) and reads its ID.
    const requestInfo = await idp.parseLoginRequest(sp, 'redirect', { query, octetString: signedOctets(req.url) });
    const { context, entityEndpoint } = await idp.createLoginResponse(sp, requestInfo, 'post', user, {
      relayState: query.RelayState,
      customTagReplacement: (template) => ({ context: fillTemplate(template, sp, requestInfo) }),
    });
    return send(res, 200, 'text/html; charset=utf-8', autoSubmitForm(entityEndpoint, context, query.RelayState));
  }
  if (req.method === 'POST' && url.pathname === '/sso') {
    const fields = Object.fromEntries(new URLSearchParams(await readBody(req)));
    if (!fields.SAMLRequest) return send(res, 400, 'text/plain', 'SAMLRequest is missing');
    const sp = serviceProviders.get(messageIssuer(fields.SAMLRequest, 'post'));
    if (!sp) return send(res, 400, 'text/plain', 'the AuthnRequest comes from an SP this IdP does not know');
    const requestInfo = await idp.parseLoginRequest(sp, 'post', { body: fields });
    const { context, entityEndpoint } = await idp.createLoginResponse(sp, requestInfo, 'post', user, {
      relayState: fields.RelayState,
      customTagReplacement: (template) => ({ context: fillTemplate(template, sp, requestInfo) }),
    });
    return send(res, 200, 'text/html; charset=utf-8', autoSubmitForm(entityEndpoint, context, fields.RelayState));
  }
  if (req.method === 'GET' && url.pathname === '/initiate') {
    const sp = serviceProviders.get(url.searchParams.get('sp') || '');
    if (!sp) return send(res, 400, 'text/plain', 'sp names no SP this IdP knows');
    // As the user clicking the app's tile in the IdP's portal: no AuthnRequest, no InResponseTo.
    const { context, entityEndpoint } = await idp.createLoginResponse(sp, null, 'post', user, {
      customTagReplacement: (template) => ({ context: fillTemplate(template, sp, null) }),
    });
    return send(res, 200, 'text/html; charset=utf-8', autoSubmitForm(entityEndpoint, context, undefined));
  }
  if (url.pathname === '/slo' && (req.method === 'GET' || req.method === 'POST')) {
    const binding = req.method === 'GET' ? 'redirect' : 'post';
    const fields = binding === 'redirect' ? Object.fromEntries(url.searchParams) : Object.fromEntries(new URLSearchParams(await readBody(req)));
    const request = binding === 'redirect' ? { query: fields, octetString: signedOctets(req.url) } : { body: fields };
    if (fields.SAMLRequest) {
      const sp = serviceProviders.get(messageIssuer(fields.SAMLRequest, binding));
      if (!sp) return send(res, 400, 'text/plain', 'the LogoutRequest comes from an SP this IdP does not know');
      // samlify validates the schema and the signature (query string or enveloped).
      const info = await idp.parseLogoutRequest(sp, binding, request);
      logouts.requests.push({ binding, id: info.extract.request.id, issuer: info.extract.issuer, nameID: info.extract.nameID,
        sessionIndex: info.extract.sessionIndex, destination: info.extract.request.destination });
      // Answered over HTTP-Redirect to the SP's SingleLogoutService, signed.
      const { context } = idp.createLogoutResponse(sp, info, 'redirect', { relayState: fields.RelayState });
      res.setHeader('Location', context);
      return send(res, 302);
    }
    if (fields.SAMLResponse) {
      const sp = serviceProviders.get(messageIssuer(fields.SAMLResponse, binding));
      if (!sp) return send(res, 400, 'text/plain', 'the LogoutResponse comes from an SP this IdP does not know');
      const info = await idp.parseLogoutResponse(sp, binding, request);
      const inResponseTo = info.extract.response.inResponseTo;
      if (!pendingLogouts.delete(inResponseTo)) return send(res, 400, 'text/plain', 'the LogoutResponse answers no LogoutRequest of this IdP');
      const status = /StatusCode[^>]*Value="([^"]+)"/.exec(info.samlContent);
      const read = { binding, id: info.extract.response.id, inResponseTo, issuer: info.extract.issuer,
        destination: info.extract.response.destination, relayState: fields.RelayState, status: status ? status[1] : null };
      logouts.responses.push(read);
      return send(res, 200, 'application/json', JSON.stringify(read));
    }
    return send(res, 400, 'text/plain', 'SAMLRequest or SAMLResponse is missing');
  }
  if (req.method === 'GET' && url.pathname === '/logout-user') {
    const sp = serviceProviders.get(url.searchParams.get('sp') || '');
    if (!sp) return send(res, 400, 'text/plain', 'sp names no SP this IdP knows');
    const binding = url.searchParams.get('binding') === 'post' ? 'post' : 'redirect';
    const issued = sessionIndexes.get(sp.entityMeta.getEntityID()) || [];
    const sessionIndex = url.searchParams.get('sessionIndex') || issued[issued.length - 1];
    const relayState = 'idp-logout-' + idp.entitySetting.generateID();
    const result = idp.createLogoutRequest(sp, binding, { logoutNameID: user.email, sessionIndex }, { relayState });
    pendingLogouts.add(result.id);
    return send(res, 200, 'application/json', JSON.stringify(binding === 'redirect'
      ? { id: result.id, url: result.context, relayState }
      : { id: result.id, action: result.entityEndpoint, samlRequest: result.context, relayState }));
  }
  if (req.method === 'GET' && url.pathname === '/logouts') {
    return send(res, 200, 'application/json', JSON.stringify(logouts));
  }
  return send(res, 404, 'text/plain', 'not found');
}

function authnInstant(now, requestInfo) {
  const forceAuthn = Boolean(requestInfo) && /\sForceAuthn="(true|1)"/.test(requestInfo.samlContent || '');
  return forceAuthn && !ignoreForceAuthn ? now : new Date(now.getTime() - sessionAgeSeconds * 1000);
}

function fillTemplate(template, sp, requestInfo) {
  const now = new Date();
  const later = new Date(now.getTime() + 5 * 60 * 1000);
  const acs = sp.entityMeta.getAssertionConsumerService('post');
  const xml = samlify.SamlLib.replaceTagsByValue(template, {
    ID: idp.entitySetting.generateID(),
    AssertionID: idp.entitySetting.generateID(),
    Destination: acs,
    Audience: sp.entityMeta.getEntityID(),
    SubjectRecipient: acs,
    Issuer: idp.entityMeta.getEntityID(),
    IssueInstant: now.toISOString(),
    AuthnInstant: authnInstant(now, requestInfo).toISOString(),
    SessionIndex: newSessionIndex(sp),
    StatusCode: samlify.Constants.StatusCode.Success,
    ConditionsNotBefore: now.toISOString(),
    ConditionsNotOnOrAfter: later.toISOString(),
    SubjectConfirmationDataNotOnOrAfter: later.toISOString(),
    NameIDFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    NameID: user.email,
    InResponseTo: requestInfo ? requestInfo.extract.request.id : undefined,
    AttrEmail: user.email,
    AttrFirstName: user.firstName,
    AttrLastName: user.lastName,
  });
  // A multi-valued attribute, which samlify's attribute templates cannot express.
  const groups = user.groups.length === 0 ? '' :
    '<saml:Attribute Name="groups" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">' +
    user.groups.map((g) => `<saml:AttributeValue xsi:type="xs:string">${escapeXml(g)}</saml:AttributeValue>`).join('') +
    '</saml:Attribute>';
  return xml.replace('{GroupsAttribute}', groups);
}

function newSessionIndex(sp) {
  const index = idp.entitySetting.generateID();
  const entityId = sp.entityMeta.getEntityID();
  sessionIndexes.set(entityId, [...(sessionIndexes.get(entityId) || []), index]);
  return index;
}

function signedOctets(rawUrl) {
  const raw = rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?') + 1) : '';
  const parts = new Map(raw.split('&').map((p) => [p.split('=')[0], p]));
  return ['SAMLRequest', 'SAMLResponse', 'RelayState', 'SigAlg'].filter((k) => parts.has(k)).map((k) => parts.get(k)).join('&');
}

// The Issuer of a redirect (deflated) or POST (plain base64) message, to find the SP it names.
function messageIssuer(message, binding) {
  const bytes = Buffer.from(message, 'base64');
  const xml = (binding === 'redirect' ? zlib.inflateRawSync(bytes) : bytes).toString('utf8');
  const match = /<(?:[A-Za-z_][\w.-]*:)?Issuer\b[^>]*>([^<]*)<\//.exec(xml);
  return match ? match[1].trim() : '';
}

// HTTP-Redirect binding (bindings §3.4.4.1): base64 of the raw-deflated XML.
function requestIssuer(samlRequest) {
  const xml = zlib.inflateRawSync(Buffer.from(samlRequest, 'base64')).toString('utf8');
  const match = /<(?:[A-Za-z_][\w.-]*:)?Issuer\b[^>]*>([^<]*)<\//.exec(xml);
  return match ? match[1].trim() : '';
}

function autoSubmitForm(action, samlResponse, relayState) {
  const relay = relayState === undefined ? '' :
    `<input type="hidden" name="RelayState" value="${escapeXml(relayState)}"/>`;
  return '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Signing in</title></head>' +
    '<body onload="document.forms[0].submit()">' +
    `<form method="post" action="${escapeXml(action)}">` +
    `<input type="hidden" name="SAMLResponse" value="${escapeXml(samlResponse)}"/>${relay}` +
    '<noscript><button type="submit">Continue</button></noscript></form></body></html>';
}

function escapeXml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res, status, contentType, body) {
  if (contentType) res.setHeader('Content-Type', contentType);
  res.writeHead(status);
  res.end(body);
}

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`[saml-idp] ${name} is not set`);
    process.exit(2);
  }
  return value;
}
