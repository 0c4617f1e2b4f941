// A SAML IdP built on samlify (npm), which nobody on this project wrote, for the end-to-end
// sign-in test. Usage: node samlify-idp.js <port> <private key PEM file> <certificate PEM file>
// Environment: IDP_USER_EMAIL (the user who signs in), IDP_ENCRYPT=1 (encrypted assertions).
//   GET  /metadata      the IdP's metadata (samlify's own writer)
//   POST /sp-metadata   the SP's metadata XML, read by samlify
//   GET  /sso?SAMLRequest=..&RelayState=..  parses the AuthnRequest (HTTP-Redirect binding) and answers
//        {"SAMLResponse": base64, "RelayState": .., "acs": ..} for the test to post, as a browser would.
'use strict';
const http = require('http');
const fs = require('fs');
const crypto = require('crypto');
const saml = require('samlify');

const [port, keyFile, certFile] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
const user = { email: process.env.IDP_USER_EMAIL || 'alice@example.test', firstName: 'Alice', lastName: 'Liddell', groups: ['engineering', 'admins'] };

// The SP's responses are checked by the service under test; samlify's optional XSD check is not needed here.
saml.setSchemaValidator({ validate: () => Promise.resolve('skipped') });

const responseTemplate =
  '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{ID}" Version="2.0" IssueInstant="{IssueInstant}" Destination="{Destination}" InResponseTo="{InResponseTo}">' +
  '<saml:Issuer>{Issuer}</saml:Issuer><samlp:Status><samlp:StatusCode Value="{StatusCode}"/></samlp:Status>' +
  '<saml:Assertion ID="{AssertionID}" Version="2.0" IssueInstant="{IssueInstant}"><saml:Issuer>{Issuer}</saml:Issuer>' +
  '<saml:Subject><saml:NameID Format="{NameIDFormat}">{NameID}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="{SubjectConfirmationDataNotOnOrAfter}" Recipient="{SubjectRecipient}" InResponseTo="{InResponseTo}"/></saml:SubjectConfirmation></saml:Subject>' +
  '<saml:Conditions NotBefore="{ConditionsNotBefore}" NotOnOrAfter="{ConditionsNotOnOrAfter}"><saml:AudienceRestriction><saml:Audience>{Audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>' +
  '<saml:AuthnStatement AuthnInstant="{IssueInstant}" SessionIndex="{AssertionID}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>' +
  '<saml:AttributeStatement>' +
  '<saml:Attribute Name="email"><saml:AttributeValue>{attrEmail}</saml:AttributeValue></saml:Attribute>' +
  '<saml:Attribute Name="firstName"><saml:AttributeValue>{attrFirstName}</saml:AttributeValue></saml:Attribute>' +
  '<saml:Attribute Name="lastName"><saml:AttributeValue>{attrLastName}</saml:AttributeValue></saml:Attribute>' +
  '<saml:Attribute Name="groups">{attrGroups}</saml:Attribute>' +
  '</saml:AttributeStatement></saml:Assertion></samlp:Response>';

const idp = saml.IdentityProvider({
  entityID: `${base}/metadata`,
  privateKey: fs.readFileSync(keyFile),
  signingCert: fs.readFileSync(certFile),
  nameIDFormat: ['urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'],
  singleSignOnService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${base}/sso` }],
  loginResponseTemplate: { context: responseTemplate },
  // IDP_ENCRYPT=1: encrypt the (signed) assertion to the SP's encryption certificate from its metadata.
  isAssertionEncrypted: process.env.IDP_ENCRYPT === '1',
  dataEncryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
  keyEncryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
});
let sp = null;

function escape(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

async function sso(query) {
  const { extract } = await idp.parseLoginRequest(sp, 'redirect', { query });
  const acs = sp.entityMeta.getAssertionConsumerService('post');
  const response = await idp.createLoginResponse(sp, { extract }, 'post', user, template => {
    const now = new Date();
    const later = new Date(now.getTime() + 5 * 60 * 1000);
    const id = '_' + crypto.randomUUID();
    return {
      id,
      // replaceTagsByValue escapes each value, so the AttributeValue elements go in first.
      context: saml.SamlLib.replaceTagsByValue(template.replace('{attrGroups}',
        user.groups.map(g => `<saml:AttributeValue>${escape(g)}</saml:AttributeValue>`).join('')), {
        ID: id,
        AssertionID: '_' + crypto.randomUUID(),
        Destination: acs,
        Audience: sp.entityMeta.getEntityID(),
        SubjectRecipient: acs,
        NameIDFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
        NameID: user.email,
        Issuer: idp.entityMeta.getEntityID(),
        IssueInstant: now.toISOString(),
        ConditionsNotBefore: now.toISOString(),
        ConditionsNotOnOrAfter: later.toISOString(),
        SubjectConfirmationDataNotOnOrAfter: later.toISOString(),
        InResponseTo: extract.request.id,
        StatusCode: 'urn:oasis:names:tc:SAML:2.0:status:Success',
        attrEmail: user.email,
        attrFirstName: user.firstName,
        attrLastName: user.lastName,
      }),
    };
  });
  return { SAMLResponse: response.context, RelayState: query.RelayState, acs, requestId: extract.request.id };
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, base);
  const chunks = [];
  req.on('data', c => chunks.push(c));
  req.on('end', async () => {
    try {
      if (req.method === 'GET' && url.pathname === '/metadata') {
        res.writeHead(200, { 'Content-Type': 'application/samlmetadata+xml' });
        res.end(idp.getMetadata());
      } else if (req.method === 'POST' && url.pathname === '/sp-metadata') {
        sp = saml.ServiceProvider({ metadata: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204);
        res.end();
      } else if (req.method === 'GET' && url.pathname === '/sso') {
        const body = await sso(Object.fromEntries(url.searchParams));
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      } else {
        res.writeHead(404);
        res.end();
      }
    } catch (error) {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String(error && error.stack || error));
    }
  });
});
server.listen(Number(port), '127.0.0.1', () => console.log('listening'));
