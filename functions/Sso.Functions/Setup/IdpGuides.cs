namespace Sso.Functions.Setup;

/// <summary>
/// The IdPs the wizard knows, with the steps an IT admin follows in each one's console. Steps
/// name the values to paste by the labels the wizard shows next to them.
/// </summary>
public static class IdpGuides
{
    public sealed record Guide(string Id, string Name, string Protocol, string DirectoryProvider, IReadOnlyList<string> SsoSteps,
        IReadOnlyList<string> ScimSteps);

    private static readonly IReadOnlyList<string> GenericScim =
    [
        "In your IdP's provisioning (SCIM 2.0) settings, enter the SCIM base URL shown above.",
        "Choose HTTP header / Bearer token authentication and paste the SCIM token.",
        "Enable creating, updating and deactivating users, and pushing groups, then assign the users and groups to sync.",
    ];

    public static readonly IReadOnlyList<Guide> All =
    [
        new("okta", "Okta", "saml", "okta",
        [
            "In the Okta Admin Console open Applications → Applications → Create App Integration, choose SAML 2.0 and name the app.",
            "Single sign-on URL: paste the ACS URL, and keep \"Use this for Recipient URL and Destination URL\" checked.",
            "Audience URI (SP Entity ID): paste the SP entity ID.",
            "Name ID format: EmailAddress; Application username: Email.",
            "Attribute Statements: email → user.email, firstName → user.firstName, lastName → user.lastName. Group Attribute Statements: groups, filter Matches regex .*",
            "Finish, open the app's Sign On tab and copy the Metadata URL (or download the metadata XML), then paste it below.",
            "Assign the people or groups who should sign in.",
        ],
        [
            "In the Okta app open General → App Settings → Edit and enable SCIM provisioning.",
            "Provisioning → Integration: SCIM connector base URL = the SCIM base URL; Unique identifier field = userName; Authentication Mode = HTTP Header; paste the SCIM token as the Bearer token.",
            "Provisioning → To App: enable Create Users, Update User Attributes and Deactivate Users. Push Groups to sync groups.",
        ]),
        new("entra", "Microsoft Entra ID", "saml", "entra",
        [
            "In the Entra admin center open Enterprise applications → New application → Create your own application (non-gallery).",
            "Open Single sign-on → SAML. In Basic SAML Configuration set Identifier (Entity ID) to the SP entity ID and Reply URL (Assertion Consumer Service URL) to the ACS URL.",
            "Attributes & Claims: keep emailaddress (user.mail), givenname, surname; add a group claim (Groups assigned to the application).",
            "In SAML Certificates copy the App Federation Metadata Url (or download Federation Metadata XML) and paste it below.",
            "Users and groups: assign who may sign in.",
        ],
        [
            "In the same enterprise application open Provisioning → Get started, Provisioning Mode = Automatic.",
            "Tenant URL = the SCIM base URL; Secret Token = the SCIM token. Test Connection, then Save.",
            "Set Provisioning Status to On; Entra ID syncs assigned users and groups every 40 minutes.",
        ]),
        new("google", "Google Workspace", "saml", "google",
        [
            "In the Google Admin console open Apps → Web and mobile apps → Add app → Add custom SAML app.",
            "On Google Identity Provider details choose Download Metadata (option 2) and keep the file for the last step.",
            "Service provider details: ACS URL = the ACS URL, Entity ID = the SP entity ID, Name ID format = EMAIL, Name ID = Basic Information > Primary email.",
            "Attribute mapping: Primary email → email, First name → firstName, Last name → lastName; Group membership → groups.",
            "Turn the app ON for the organisational units that should sign in, then paste the downloaded metadata XML below.",
        ],
        [
            "Google Workspace provisions only to apps from its catalogue; for a custom app sync the directory with a connector of your own using the SCIM base URL and token.",
        ]),
        new("onelogin", "OneLogin", "saml", "onelogin",
        [
            "In OneLogin open Applications → Add App and choose \"SAML Custom Connector (Advanced)\".",
            "Configuration: Audience (EntityID) = the SP entity ID; Recipient, ACS (Consumer) URL and ACS (Consumer) URL Validator = the ACS URL (for the validator, escape it as a regular expression).",
            "SAML signature element: Assertion. Parameters: add email, firstName, lastName and groups (include in SAML assertion).",
            "Save, then More Actions → SAML Metadata, and paste the downloaded XML below.",
        ],
        [
            "Use OneLogin's \"SCIM Provisioner with SAML (SCIM v2 Enterprise)\" connector: SCIM Base URL = the SCIM base URL, SCIM Bearer Token = the SCIM token.",
            "Provisioning: enable provisioning, and choose what happens when a user is deleted (suspend or delete; both deprovision here).",
        ]),
        new("jumpcloud", "JumpCloud", "saml", "jumpcloud",
        [
            "In the JumpCloud Admin Portal open SSO Applications → Add New Application → Custom Application, and choose Manage Single Sign-On (SSO) with SAML 2.0.",
            "SP Entity ID = the SP entity ID; ACS URLs: Default URL = the ACS URL; SAMLSubject NameID = email.",
            "Attributes: email, firstName, lastName; enable Include group attribute named groups.",
            "Activate, then Export Metadata and paste the XML below.",
        ],
        [
            "Identity Management tab: choose SCIM 2.0, Base URL = the SCIM base URL, Token Key = the SCIM token; Test Connection and Activate.",
        ]),
        new("saml", "Other SAML 2.0 IdP", "saml", "generic",
        [
            "Create a SAML 2.0 application (service provider) in your IdP.",
            "Set its Assertion Consumer Service URL (HTTP-POST) to the ACS URL and its audience / SP entity ID to the SP entity ID, or import the SP metadata URL.",
            "Send the email address as NameID (or an email attribute), plus firstName, lastName and groups attributes; sign the assertion or the response with SHA-256.",
            "Paste the IdP's metadata XML or its metadata URL below.",
        ], GenericScim),
        new("oidc", "Other OpenID Connect IdP", "oidc", "generic",
        [
            "Register a confidential web application (OIDC client) in your IdP with the redirect URI shown above and the authorization code flow.",
            "Allow the scopes openid, email and profile (and a groups claim if your IdP offers one).",
            "Paste the issuer URL (its /.well-known/openid-configuration must answer), the client ID and the client secret below.",
        ], GenericScim),
    ];

    public static Guide? Find(string? id) => All.FirstOrDefault(g => g.Id == id);
}
