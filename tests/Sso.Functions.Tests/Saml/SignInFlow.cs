using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Web;
using Sso.Testing;

namespace Sso.Functions.Tests.Saml;

/// <summary>
/// One tenant, one client and one SAML connection on a running app, and the browser's steps
/// of a sign-in: authorize, the IdP's POST to the ACS, the code exchange.
/// </summary>
public sealed class SignInFlow
{
    public const string RedirectUri = "https://app.example.test/callback";

    private SignInFlow(SsoAppFactory app, SamlTestIdp idp)
    {
        App = app;
        Idp = idp;
        Admin = app.CreateAdminClient();
        Browser = app.CreateAnonymousClient();
    }

    public SsoAppFactory App { get; }
    public SamlTestIdp Idp { get; }
    public HttpClient Admin { get; }
    public HttpClient Browser { get; }
    public string Domain { get; private set; } = "";
    public string TenantId { get; private set; } = "";
    public string ClientId { get; private set; } = "";
    public string ClientSecret { get; private set; } = "";
    public string ConnectionId { get; private set; } = "";
    public string AcsUrl { get; private set; } = "";
    public string SpEntityId { get; private set; } = "";
    public string Email => "alice@" + Domain;

    /// <summary>The same tenant, client, connection and IdP, driven through another instance of the app (a <c>sharedWith</c> factory).</summary>
    public SignInFlow On(SsoAppFactory instance) => new(instance, Idp)
    {
        Domain = Domain,
        TenantId = TenantId,
        ClientId = ClientId,
        ClientSecret = ClientSecret,
        ConnectionId = ConnectionId,
        AcsUrl = AcsUrl,
        SpEntityId = SpEntityId,
    };

    public static async Task<SignInFlow> CreateAsync(SsoAppFactory app, JsonObject? settings = null, JsonObject? connectionExtras = null)
    {
        var flow = new SignInFlow(app, new SamlTestIdp());
        var tenant = await TestTenant.CreateAsync(app, domain: TestTenant.UniqueDomain(), admin: flow.Admin);
        flow.Domain = tenant.Domain;
        flow.TenantId = tenant.TenantId;
        // POST /api/v1/tenants takes settings only whole (a partial object leaves roles null), so patch them.
        if (settings is not null) await tenant.PatchSettingsAsync(settings);

        var client = await tenant.AddClientAsync(redirectUri: RedirectUri);
        flow.ClientId = client.ClientId;
        flow.ClientSecret = client.ClientSecret;

        var body = new JsonObject
        {
            ["type"] = "saml",
            ["idpEntityId"] = SamlTestIdp.EntityId,
            ["idpSsoUrl"] = SamlTestIdp.SsoUrl,
            ["idpCertificates"] = new JsonArray(flow.Idp.CertificatePem),
        };
        foreach (var (name, value) in connectionExtras ?? new JsonObject()) body[name] = value?.DeepClone();
        var view = await tenant.AddConnectionAsync(body);
        flow.ConnectionId = view["id"]!.GetValue<string>();
        flow.AcsUrl = view["acsUrl"]!.GetValue<string>();
        flow.SpEntityId = view["spEntityId"]!.GetValue<string>();
        return flow;
    }

    public async Task PatchSettingsAsync(JsonObject settings)
    {
        var patched = await Admin.PatchAsync($"/api/v1/tenants/{TenantId}",
            JsonContent.Create(new JsonObject { ["settings"] = settings.DeepClone() }));
        Assert.True(patched.StatusCode == HttpStatusCode.OK, await patched.Content.ReadAsStringAsync());
    }

    public static (string Verifier, string Challenge) NewPkce()
    {
        var verifier = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var challenge = Convert.ToBase64String(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (verifier, challenge);
    }

    public string AuthorizeUrl(string state, string? challenge, string? nonce = "n-0S6_WzA2Mj", string? extra = null,
        string? loginHint = null)
    {
        var query = new StringBuilder("/oauth/authorize?response_type=code&scope=openid%20email%20profile")
            .Append("&client_id=").Append(ClientId)
            .Append("&redirect_uri=").Append(Uri.EscapeDataString(RedirectUri))
            .Append("&state=").Append(Uri.EscapeDataString(state))
            .Append("&login_hint=").Append(Uri.EscapeDataString(loginHint ?? Email));
        if (nonce is not null) query.Append("&nonce=").Append(Uri.EscapeDataString(nonce));
        if (challenge is not null) query.Append("&code_challenge=").Append(challenge).Append("&code_challenge_method=S256");
        if (extra is not null) query.Append('&').Append(extra);
        return query.ToString();
    }

    /// <summary>Authorize; returns the AuthnRequest ID and RelayState the IdP received.</summary>
    public async Task<(string RequestId, string RelayState)> StartAsync(string state, string? challenge, string? extra = null)
    {
        var response = await Browser.GetAsync(AuthorizeUrl(state, challenge, extra: extra));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith(SamlTestIdp.SsoUrl + "?", location.ToString());
        var (requestId, relayState, _) = SamlTestIdp.ReadRedirect(location);
        return (requestId, relayState!);
    }

    public SamlTestIdp.Assertion Assertion(string? inResponseTo) => new()
    {
        AcsUrl = AcsUrl,
        SpEntityId = SpEntityId,
        InResponseTo = inResponseTo,
        Now = App.Clock.GetUtcNow(),
        Email = Email,
    };

    public Task<HttpResponseMessage> PostAcsAsync(string samlResponse, string? relayState, string? acsUrl = null)
    {
        var fields = new List<KeyValuePair<string, string>> { new("SAMLResponse", samlResponse) };
        if (relayState is not null) fields.Add(new("RelayState", relayState));
        return Browser.PostAsync(new Uri(acsUrl ?? AcsUrl).PathAndQuery, new FormUrlEncodedContent(fields));
    }

    /// <summary>The query parameters of a redirect back to the client.</summary>
    public static Dictionary<string, string> CallbackParameters(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith(RedirectUri + "?", location.ToString());
        var query = HttpUtility.ParseQueryString(location.Query);
        return query.AllKeys.ToDictionary(k => k!, k => query[k]!);
    }

    /// <summary>authorize → ACS → the code (PKCE S256).</summary>
    public async Task<(string Code, string Verifier)> SignInAsync(string state = "state-123")
    {
        var (verifier, challenge) = NewPkce();
        var (requestId, relayState) = await StartAsync(state, challenge);
        var acs = await PostAcsAsync(Idp.SignedResponse(Assertion(requestId)), relayState);
        var callback = CallbackParameters(acs);
        Assert.Equal(state, callback["state"]);
        return (callback["code"], verifier);
    }

    public Task<HttpResponseMessage> RedeemAsync(string code, string? verifier, bool basic = true, string? secret = null,
        string redirectUri = RedirectUri)
    {
        var fields = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "authorization_code"),
            new("code", code),
            new("redirect_uri", redirectUri),
        };
        if (verifier is not null) fields.Add(new("code_verifier", verifier));
        var request = new HttpRequestMessage(HttpMethod.Post, "/oauth/token") { Content = new FormUrlEncodedContent(fields) };
        if (basic)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(
                Encoding.UTF8.GetBytes(Uri.EscapeDataString(ClientId) + ":" + Uri.EscapeDataString(secret ?? ClientSecret))));
        else
        {
            fields.Add(new("client_id", ClientId));
            fields.Add(new("client_secret", secret ?? ClientSecret));
            request.Content = new FormUrlEncodedContent(fields);
        }
        return Browser.SendAsync(request);
    }
}
