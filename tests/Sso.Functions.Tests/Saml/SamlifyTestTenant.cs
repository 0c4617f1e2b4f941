using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Testing;

namespace Sso.Functions.Tests.Saml;

/// <summary>
/// What the samlify end-to-end tests share: a samlify IdP that logs in one user, a tenant on that
/// user's domain, an OAuth client, and the browser and admin clients to drive them.
/// </summary>
public class SamlifyTestTenant : IAsyncDisposable
{
    protected SamlifyTestTenant(SsoAppFactory app, SamlifyIdpServer idp, string domain, string email)
    {
        _app = app;
        Idp = idp;
        Domain = domain;
        Email = email;
        Admin = app.CreateAdminClient();
        Browser = app.CreateAnonymousClient();
        // samlify stamps its assertions with the wall clock; a class fixture's fake clock, frozen when
        // the class started, falls behind it on a loaded machine by more than the 180 s skew.
        if (app.Clock.GetUtcNow() < DateTimeOffset.UtcNow) app.Clock.SetUtcNow(DateTimeOffset.UtcNow);
    }

    private readonly SsoAppFactory _app;

    public SamlifyIdpServer Idp { get; }
    public string Domain { get; }
    public string Email { get; }
    public HttpClient Admin { get; }
    public HttpClient Browser { get; }
    public string TenantId { get; private set; } = "";
    public string ClientId { get; private set; } = "";
    public string ClientSecret { get; private set; } = "";

    /// <summary>Creates the tenant with <paramref name="settings"/> and the client from <paramref name="client"/>; disposes on failure.</summary>
    /// <returns>The created client as the API answered it.</returns>
    protected async Task<JsonObject> CreateTenantAndClientAsync(string tenantName, JsonObject settings, object client)
    {
        try
        {
            var tenant = await TestTenant.CreateAsync(_app, tenantName, Domain, admin: Admin);
            TenantId = tenant.TenantId;
            await tenant.PatchSettingsAsync(settings);

            var created = await tenant.AddClientAsync(client);
            ClientId = created.ClientId;
            ClientSecret = created.ClientSecret;
            var view = created.View;
            return view;
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// A SAML connection (by default from the IdP's metadata URL), and the IdP told about our SP
    /// by the SP metadata this service publishes for it.
    /// </summary>
    /// <returns>The connection as the API answered it, and the SP metadata the IdP was given.</returns>
    protected async Task<(JsonObject View, string SpMetadata)> CreateConnectionAsync(JsonObject? body)
    {
        body ??= new JsonObject { ["type"] = "saml", ["idpMetadataUrl"] = Idp.MetadataUrl };
        var response = await Admin.PostAsJsonAsync($"/api/v1/tenants/{TenantId}/connections", body);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var view = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        var spMetadata = await Browser.GetAsync(new Uri(view["spMetadataUrl"]!.GetValue<string>()).PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, spMetadata.StatusCode);
        var metadata = await spMetadata.Content.ReadAsStringAsync();
        await Idp.RegisterServiceProviderAsync(metadata);
        return (view, metadata);
    }

    public Task<HttpResponseMessage> PostToAcsAsync(string acsUrl, string samlResponse, string? relayState)
    {
        var fields = new List<KeyValuePair<string, string>> { new("SAMLResponse", samlResponse) };
        if (relayState is not null) fields.Add(new("RelayState", relayState));
        return Browser.PostAsync(new Uri(acsUrl).PathAndQuery, new FormUrlEncodedContent(fields));
    }

    /// <summary>The token request of the client (client_secret_basic).</summary>
    public Task<HttpResponseMessage> RedeemAsync(string code, string? verifier)
    {
        List<KeyValuePair<string, string>> fields =
        [
            new("grant_type", "authorization_code"),
            new("code", code),
            new("redirect_uri", SignInFlow.RedirectUri),
        ];
        if (verifier is not null) fields.Add(new("code_verifier", verifier));
        var request = new HttpRequestMessage(HttpMethod.Post, "/oauth/token") { Content = new FormUrlEncodedContent(fields) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(
            Encoding.UTF8.GetBytes(Uri.EscapeDataString(ClientId) + ":" + Uri.EscapeDataString(ClientSecret))));
        return Browser.SendAsync(request);
    }

    public async Task<HttpStatusCode> UserInfoStatusAsync(string accessToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/oauth/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return (await Browser.SendAsync(request)).StatusCode;
    }

    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        Admin.Dispose();
        Browser.Dispose();
        await Idp.DisposeAsync();
    }
}
