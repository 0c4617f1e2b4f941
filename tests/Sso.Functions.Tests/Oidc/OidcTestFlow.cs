using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Web;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Sso.Functions.Connections;
using Sso.Functions.OAuth;
using Sso.Functions.Oidc;
using Sso.Functions.Storage;
using Sso.Testing;

namespace Sso.Functions.Tests.Oidc;

/// <summary>Tenant, client and OIDC connection setup, and the steps of one sign-in, over HTTP.</summary>
public sealed class OidcTestFlow(SsoAppFactory app)
{
    public const string ClientRedirectUri = "https://app.example.com/callback";

    public HttpClient Admin { get; } = app.CreateAdminClient();
    public HttpClient Browser { get; } = app.CreateAnonymousClient();

    public static string UniqueDomain() => $"acme-{Guid.NewGuid():N}"[..20] + ".test";

    public async Task<string> CreateTenantAsync(string domain, bool jit = true)
    {
        var tenant = await TestTenant.CreateAsync(app, domain: domain, admin: Admin);
        if (jit) await tenant.PatchSettingsAsync(new JsonObject { ["jitProvisioning"] = true });
        return tenant.TenantId;
    }

    public async Task<(string ClientId, string ClientSecret)> CreateClientAsync()
    {
        var client = await Tenant(null).AddClientAsync(redirectUri: ClientRedirectUri);
        return (client.ClientId, client.ClientSecret);
    }

    public Task<HttpResponseMessage> PostConnectionAsync(string tenantId, JsonObject body) => Tenant(tenantId).PostConnectionAsync(body);

    public Task<JsonObject> CreateConnectionAsync(string tenantId, string issuer, string clientId, string clientSecret) =>
        Tenant(tenantId).AddConnectionAsync(
            new JsonObject { ["type"] = "oidc", ["issuer"] = issuer, ["clientId"] = clientId, ["clientSecret"] = clientSecret });

    private TestTenant Tenant(string? tenantId) => TestTenant.Of(app, Admin, tenantId ?? "", "");

    /// <summary>
    /// Starts a sign-in the way <c>/oauth/authorize</c> does once it has accepted the request: a
    /// pending sign-in for the client, handed to the starters (<see cref="OidcSignInStarter"/>). Returns the IdP URL.
    /// </summary>
    public async Task<Uri> StartAsync(string tenantId, string connectionId, string clientId, string clientState = "client-state-1",
        Sso.Protocols.OAuth.StepUpDemand? stepUp = null)
    {
        var connection = await app.Get<ConnectionStore>().FindAsync(new TenantId(tenantId), new ConnectionId(connectionId), default);
        var now = app.Clock.GetUtcNow();
        var pending = new PendingSignIn
        {
            Handle = PendingSignIn.NewHandle(new ConnectionId(connectionId)),
            ClientId = new ClientId(clientId),
            RedirectUri = ClientRedirectUri,
            State = clientState,
            Nonce = "client-nonce",
            TenantId = new TenantId(tenantId),
            ConnectionId = new ConnectionId(connectionId),
            CreatedAt = now,
            ExpiresAt = now + PendingSignIn.Lifetime,
            Scope = "openid email profile",
            StepUp = stepUp ?? Sso.Protocols.OAuth.StepUpDemand.None,
        };
        var started = await app.Get<SignInStarters>().StartAsync(pending, connection!, default);
        Assert.True(started.IsSuccess, started.ToString());
        return new Uri(Assert.IsType<IdpRequest.Redirect>(started.Value).Url);
    }

    public static string Param(Uri uri, string name) => HttpUtility.ParseQueryString(uri.Query)[name] ?? "";

    public static string? ParamOrNull(Uri uri, string name) => HttpUtility.ParseQueryString(uri.Query)[name];

    /// <summary>The IdP's redirect back to our callback.</summary>
    public async Task<HttpResponseMessage> CallbackAsync(string query) => await Browser.GetAsync("/oidc/callback?" + query);

    /// <summary>Asserts the browser went back to the client with an OAuth error, its state, and no code.</summary>
    public static Uri AssertErrorRedirect(HttpResponseMessage response, string error, string description, string clientState = "client-state-1")
    {
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith(ClientRedirectUri + "?", location.AbsoluteUri);
        Assert.Equal(error, Param(location, "error"));
        Assert.Equal(description, Param(location, "error_description"));
        Assert.Equal(clientState, Param(location, "state"));
        Assert.Null(ParamOrNull(location, "code"));
        return location;
    }
}
