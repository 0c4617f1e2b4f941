using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Sso.Functions.Connections;
using Sso.Functions.Oidc;
using Sso.Functions.Storage.Secrets;
using Sso.Testing;

namespace Sso.Functions.Tests.Oidc;

public class OidcConnectionSetupTests(FakeOpFixture fixture) : IClassFixture<FakeOpFixture>
{
    private readonly OidcTestFlow _flow = new(fixture.App);
    private FakeOp Op => fixture.Op;

    private JsonObject Body(string? issuer = null) => new()
    {
        ["type"] = "oidc",
        ["issuer"] = issuer ?? Op.Issuer,
        ["clientId"] = FakeOp.ClientId,
        ["clientSecret"] = FakeOp.ClientSecret,
    };

    private async Task<string> TenantAsync() => await _flow.CreateTenantAsync(OidcTestFlow.UniqueDomain(), jit: false);

    private async Task<List<TableEntity>> ConnectionRowsAsync(string tenantId)
    {
        var table = new TableClient(fixture.App.Azurite.ConnectionString, fixture.App.TablePrefix + "connections");
        await table.CreateIfNotExistsAsync();
        return table.Query<TableEntity>(e => e.PartitionKey == tenantId).ToList();
    }

    [Fact]
    public async Task Creates_a_connection_whose_secret_is_in_the_secret_store_only()
    {
        var tenantId = await TenantAsync();
        var response = await _flow.PostConnectionAsync(tenantId, Body());

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        var id = created["id"]!.GetValue<string>();
        Assert.StartsWith("con_", id);
        Assert.Equal("oidc", created["type"]!.GetValue<string>());
        Assert.Equal(tenantId, created["tenantId"]!.GetValue<string>());
        Assert.Equal("http://localhost/oidc/callback", created["redirectUri"]!.GetValue<string>());
        Assert.Equal(Op.Issuer, created["issuer"]!.GetValue<string>());
        Assert.Equal(Op.Issuer + "/authorize", created["authorizationEndpoint"]!.GetValue<string>());
        Assert.Equal("client_secret_basic", created["tokenEndpointAuthMethod"]!.GetValue<string>());
        Assert.Equal(["openid", "email", "profile"], created["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.DoesNotContain(FakeOp.ClientSecret, created.ToJsonString());

        var read = await _flow.Admin.GetStringAsync($"/api/v1/tenants/{tenantId}/connections/{id}");
        Assert.DoesNotContain(FakeOp.ClientSecret, read);
        // The partition may still hold the connection.created outbox row: one connection row, and no row anywhere holds the secret.
        var rows = await ConnectionRowsAsync(tenantId);
        Assert.Single(rows, r => r.RowKey.StartsWith("connection|", StringComparison.Ordinal));
        Assert.DoesNotContain(FakeOp.ClientSecret, string.Join("|", rows.SelectMany(r => r).Select(v => v.Value?.ToString())));
        Assert.Equal(FakeOp.ClientSecret,
            await fixture.App.Get<ISecretStore>().GetAsync(OidcConnectionSetup.ClientSecretName(new ConnectionId(id)), default));
    }

    [Fact]
    public async Task Keeps_custom_scopes_with_openid_first()
    {
        var body = Body();
        body["scopes"] = new JsonArray("email", "groups", "offline_access");
        var response = await _flow.PostConnectionAsync(await TenantAsync(), body);
        var created = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(["openid", "email", "groups", "offline_access"], created["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));
    }

    public static TheoryData<string, string, string> BadBodies => new()
    {
        { "no issuer", """{"type":"oidc","clientId":"c","clientSecret":"s"}""", "validation-failed" },
        { "no client id", """{"type":"oidc","issuer":"https://idp.example.com","clientSecret":"s"}""", "validation-failed" },
        { "no client secret", """{"type":"oidc","issuer":"https://idp.example.com","clientId":"c"}""", "validation-failed" },
        { "an unknown field", """{"type":"oidc","issuer":"https://idp.example.com","clientId":"c","clientSecret":"s","prompt":"none"}""", "unknown-field" },
        { "an http issuer off loopback", """{"type":"oidc","issuer":"http://idp.example.com","clientId":"c","clientSecret":"s"}""", "validation-failed" },
        { "a relative issuer", """{"type":"oidc","issuer":"/idp","clientId":"c","clientSecret":"s"}""", "validation-failed" },
        { "an issuer with a query", """{"type":"oidc","issuer":"https://idp.example.com/?x=1","clientId":"c","clientSecret":"s"}""", "validation-failed" },
        { "a numeric client id", """{"type":"oidc","issuer":"https://idp.example.com","clientId":42,"clientSecret":"s"}""", "validation-failed" },
        { "a scope with a space", """{"type":"oidc","issuer":"https://idp.example.com","clientId":"c","clientSecret":"s","scopes":["email profile"]}""", "validation-failed" },
        { "scopes as a string", """{"type":"oidc","issuer":"https://idp.example.com","clientId":"c","clientSecret":"s","scopes":"email"}""", "validation-failed" },
        { "a non-GUID Entra tenant", """{"type":"oidc","issuer":"https://idp.example.com","clientId":"c","clientSecret":"s","entraTenantIds":["contoso"]}""", "validation-failed" },
        { "a negative clock skew", """{"type":"oidc","issuer":"https://idp.example.com","clientId":"c","clientSecret":"s","clockSkewSeconds":-1}""", "validation-failed" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Refuses_a_bad_body_with_400_and_stores_nothing(string _, string body, string problem)
    {
        var tenantId = await TenantAsync();
        var response = await _flow.Admin.PostAsync($"/api/v1/tenants/{tenantId}/connections",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith("/" + problem, (await response.Content.ReadFromJsonAsync<JsonObject>())!["type"]!.GetValue<string>());
        Assert.Empty(await ConnectionRowsAsync(tenantId));
    }

    [Fact]
    public async Task Refuses_an_issuer_whose_discovery_names_another_issuer()
    {
        var tenantId = await TenantAsync();
        Op.EditDiscovery = d => d["issuer"] = "https://evil.example.com";
        try
        {
            var response = await _flow.PostConnectionAsync(tenantId, Body());
            Assert.Equal((HttpStatusCode)422, response.StatusCode);
            var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.EndsWith("/oidc-discovery-failed", problem["type"]!.GetValue<string>());
            Assert.Contains("https://evil.example.com", problem["detail"]!.GetValue<string>());
            Assert.Empty(await ConnectionRowsAsync(tenantId));
        }
        finally
        {
            Op.EditDiscovery = null;
        }
    }

    [Fact]
    public async Task Uses_client_secret_post_when_the_IdP_offers_only_that()
    {
        Op.EditDiscovery = d => d["token_endpoint_auth_methods_supported"] = new JsonArray("client_secret_post");
        try
        {
            var created = (await (await _flow.PostConnectionAsync(await TenantAsync(), Body())).Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.Equal("client_secret_post", created["tokenEndpointAuthMethod"]!.GetValue<string>());
        }
        finally
        {
            Op.EditDiscovery = null;
        }
    }

    [Fact]
    public async Task Forgives_a_trailing_slash_on_the_issuer()
    {
        var created = (await (await _flow.PostConnectionAsync(await TenantAsync(), Body(Op.Issuer + "/"))).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(Op.Issuer, created["issuer"]!.GetValue<string>());
    }

    [Fact]
    public async Task Requires_admitted_tenants_for_an_Entra_multi_tenant_authority()
    {
        var tenantId = await TenantAsync();
        var response = await _flow.PostConnectionAsync(tenantId, Body(Op.EntraAuthority));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("entraTenantIds", (await response.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!.GetValue<string>());

        var body = Body(Op.EntraAuthority);
        body["entraTenantIds"] = new JsonArray("9188040D-6C67-4C5B-B112-36A304B66DAD");
        var created = await _flow.PostConnectionAsync(tenantId, body);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var view = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("9188040d-6c67-4c5b-b112-36a304b66dad", view["entraTenantIds"]![0]!.GetValue<string>());
        Assert.Equal(Op.EntraIssuerTemplate, view["discoveredIssuer"]!.GetValue<string>());
    }

    [Fact]
    public async Task Answers_422_within_the_timeout_when_the_IdP_does_not_answer()
    {
        // A listener that accepts connections and never answers.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var tenantId = await TenantAsync();

        var posted = _flow.PostConnectionAsync(tenantId, Body($"http://127.0.0.1:{port}"));
        using var accepted = await silent.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(30));
        fixture.App.Clock.Advance(IdpHttpClient.Timeout);   // the fetch's deadline runs on the service clock
        var response = await posted.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal((HttpStatusCode)422, response.StatusCode);
        Assert.Contains("within 5 s", (await response.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Rotates_the_client_secret_on_PATCH_and_removes_it_on_DELETE()
    {
        var tenantId = await TenantAsync();
        var id = (await (await _flow.PostConnectionAsync(tenantId, Body())).Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var secretName = OidcConnectionSetup.ClientSecretName(new ConnectionId(id));
        var secrets = fixture.App.Get<ISecretStore>();

        var patch = await _flow.Admin.PatchAsync($"/api/v1/tenants/{tenantId}/connections/{id}",
            JsonContent.Create(new JsonObject { ["clientSecret"] = "rotated-secret", ["name"] = "Okta" }));
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        var patched = await patch.Content.ReadAsStringAsync();
        Assert.DoesNotContain("rotated-secret", patched);
        Assert.Equal("rotated-secret", await secrets.GetAsync(secretName, default));

        var typeChange = await _flow.Admin.PatchAsync($"/api/v1/tenants/{tenantId}/connections/{id}",
            JsonContent.Create(new JsonObject { ["type"] = "saml" }));
        Assert.Equal(HttpStatusCode.BadRequest, typeChange.StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await _flow.Admin.DeleteAsync($"/api/v1/tenants/{tenantId}/connections/{id}")).StatusCode);
        Assert.Null(await secrets.GetAsync(secretName, default));
    }

    [Theory]
    [InlineData("clientId")]
    [InlineData("issuer")]
    public async Task Requires_the_client_secret_again_when_the_issuer_or_client_id_changes(string member)
    {
        await using var other = await FakeOp.StartAsync();
        var tenantId = await TenantAsync();
        var id = (await (await _flow.PostConnectionAsync(tenantId, Body())).Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var secrets = fixture.App.Get<ISecretStore>();
        JsonNode newValue = member == "issuer" ? other.Issuer : "another-client";

        var refused = await _flow.Admin.PatchAsync($"/api/v1/tenants/{tenantId}/connections/{id}",
            JsonContent.Create(new JsonObject { [member] = newValue.DeepClone() }));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("clientSecret", await refused.Content.ReadAsStringAsync());
        var unchanged = (await _flow.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenantId}/connections/{id}"))!;
        Assert.Equal(member == "issuer" ? Op.Issuer : FakeOp.ClientId, unchanged[member]!.GetValue<string>());
        Assert.Equal(0, other.TokenRequests + other.JwksRequests);

        var accepted = await _flow.Admin.PatchAsync($"/api/v1/tenants/{tenantId}/connections/{id}",
            JsonContent.Create(new JsonObject { [member] = newValue.DeepClone(), ["clientSecret"] = "secret-for-the-new-client" }));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal("secret-for-the-new-client", await secrets.GetAsync(OidcConnectionSetup.ClientSecretName(new ConnectionId(id)), default));

        // Repeating the current value is not a change.
        var same = await _flow.Admin.PatchAsync($"/api/v1/tenants/{tenantId}/connections/{id}",
            JsonContent.Create(new JsonObject { [member] = newValue.DeepClone(), ["name"] = "Renamed" }));
        Assert.Equal(HttpStatusCode.OK, same.StatusCode);
    }
}
