using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sso.Functions.DirectorySync;
using Sso.Functions.Tests.Deprovisioning;
using Sso.Functions.Tests.Saml;
using Sso.Functions.Tests.Scim;
using Sso.Testing;
using static Sso.Functions.Tests.Scim.ScimTestDirectory;

namespace Sso.Functions.Tests.Storage;

/// <summary>
/// DESIGN §4: nothing cached delays a revocation by more than 10 s. Two instances of one deployment
/// (same tables, secrets and clock): the change is made on A, which refuses at once; B, which had
/// the grant cached, still serves it (the cache exists) and refuses once the clock passes the
/// cache's bound, which is at most 10 s.
/// </summary>
public sealed class RevocationAcrossInstancesTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private TwoInstances _apps = null!;
    private SsoAppFactory _a = null!;
    private SsoAppFactory _b = null!;

    public async Task InitializeAsync()
    {
        _apps = await TwoInstances.StartAsync();
        (_a, _b) = (_apps.A, _apps.B);
    }

    public Task DisposeAsync() => _apps.DisposeAsync().AsTask();

    private static HttpClient ScimClient(SsoAppFactory app, string token)
    {
        var client = app.CreateAnonymousClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static async Task<HttpStatusCode> UsersStatusAsync(SsoAppFactory app, ScimTestDirectory directory, string? token = null) =>
        (await ScimClient(app, token ?? directory.Token).GetAsync(directory.Base + "/Users")).StatusCode;

    [Fact]
    public void Caches_SCIM_credentials_for_at_most_the_revocation_bound() =>
        Assert.InRange(DirectoryRecordStore.CredentialCacheFor, TimeSpan.FromSeconds(1), Bound);

    [Fact]
    public async Task Refuses_a_revoked_SCIM_token_at_once_where_it_was_revoked_and_within_the_bound_elsewhere()
    {
        var directory = await CreateAsync(_a);
        Assert.Equal(HttpStatusCode.OK, await UsersStatusAsync(_a, directory));
        Assert.Equal(HttpStatusCode.OK, await UsersStatusAsync(_b, directory));

        Assert.Equal(HttpStatusCode.NoContent, (await directory.Admin.DeleteAsync(
            $"/api/v1/tenants/{directory.TenantId}/directories/{directory.DirectoryId}/tokens/{directory.TokenId}")).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, await UsersStatusAsync(_a, directory));
        Assert.Equal(HttpStatusCode.OK, await UsersStatusAsync(_b, directory));
        _a.Clock.Advance(DirectoryRecordStore.CredentialCacheFor);
        Assert.Equal(HttpStatusCode.Unauthorized, await UsersStatusAsync(_b, directory));
    }

    [Fact]
    public async Task Refuses_an_expired_SCIM_token_on_every_instance_at_its_expiry()
    {
        var directory = await CreateAsync(_a);
        var response = await directory.Admin.PostAsJsonAsync($"/api/v1/tenants/{directory.TenantId}/directories/{directory.DirectoryId}/tokens",
            new { name = "short", expiresAt = _a.Clock.GetUtcNow().AddHours(1).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'") });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var token = (await ReadAsync(response))["token"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, await UsersStatusAsync(_a, directory, token));
        Assert.Equal(HttpStatusCode.OK, await UsersStatusAsync(_b, directory, token));

        // Cached or not, the expiry is checked on every request.
        _a.Clock.Advance(TimeSpan.FromHours(1));

        Assert.Equal(HttpStatusCode.Unauthorized, await UsersStatusAsync(_a, directory, token));
        Assert.Equal(HttpStatusCode.Unauthorized, await UsersStatusAsync(_b, directory, token));
    }

    [Fact]
    public async Task Refuses_SCIM_of_a_deleted_directory_at_once_where_it_was_purged_and_within_the_bound_elsewhere()
    {
        var directory = await CreateAsync(_a);
        Assert.Equal(HttpStatusCode.OK, await UsersStatusAsync(_a, directory));
        Assert.Equal(HttpStatusCode.OK, await UsersStatusAsync(_b, directory));

        // Deleting the tenant queues the purge of its directories; A runs it.
        Assert.Equal(HttpStatusCode.NoContent, (await directory.Admin.DeleteAsync($"/api/v1/tenants/{directory.TenantId}")).StatusCode);
        await _a.DrainQueuesAsync();
        Assert.Null(await _a.Get<DirectoryRecordStore>().FindDirectoryAsync(new DirectoryId(directory.DirectoryId), default));

        Assert.Equal(HttpStatusCode.Unauthorized, await UsersStatusAsync(_a, directory));
        Assert.Equal(HttpStatusCode.OK, (await ScimClient(_b, directory.Token).GetAsync(directory.Base + "/ServiceProviderConfig")).StatusCode);
        _a.Clock.Advance(DirectoryRecordStore.CredentialCacheFor);
        Assert.Equal(HttpStatusCode.Unauthorized, await UsersStatusAsync(_b, directory));
    }

    [Fact]
    public void Caches_connections_tenants_and_clients_for_at_most_the_revocation_bound()
    {
        Assert.InRange(Sso.Functions.Connections.ConnectionStore.CacheFor, TimeSpan.FromSeconds(1), Bound);
        Assert.InRange(Sso.Functions.Tenants.TenantStore.CacheFor, TimeSpan.FromSeconds(1), Bound);
        Assert.InRange(Sso.Functions.OAuth.ClientStore.CacheFor, TimeSpan.FromSeconds(1), Bound);
    }

    [Fact]
    public async Task Refuses_a_deleted_connection_at_once_where_it_was_deleted_and_within_the_bound_elsewhere()
    {
        var flowA = await SignInFlow.CreateAsync(_a);
        var flowB = flowA.On(_b);
        var metadata = $"/saml/metadata/{flowA.ConnectionId}";
        Assert.Equal(HttpStatusCode.OK, (await flowA.Browser.GetAsync(metadata)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await flowB.Browser.GetAsync(metadata)).StatusCode);
        var (requestId, relayState) = await flowB.StartAsync("on-b", null);

        Assert.Equal(HttpStatusCode.NoContent,
            (await flowA.Admin.DeleteAsync($"/api/v1/tenants/{flowA.TenantId}/connections/{flowA.ConnectionId}")).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await flowA.Browser.GetAsync(metadata)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest,
            (await flowA.PostAcsAsync(flowA.Idp.SignedResponse(flowA.Assertion(requestId)), relayState)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await flowB.Browser.GetAsync(metadata)).StatusCode);
        _a.Clock.Advance(Sso.Functions.Connections.ConnectionStore.CacheFor);
        Assert.Equal(HttpStatusCode.NotFound, (await flowB.Browser.GetAsync(metadata)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest,
            (await flowB.PostAcsAsync(flowB.Idp.SignedResponse(flowB.Assertion(requestId)), relayState)).StatusCode);
    }

    [Fact]
    public async Task Refuses_a_deprovisioned_user_sign_in_and_access_token_at_once_on_every_instance()
    {
        var flowA = await SignInFlow.CreateAsync(_a);
        var flowB = flowA.On(_b);
        var directory = (await (await flowA.Admin.PostAsJsonAsync($"/api/v1/tenants/{flowA.TenantId}/directories",
            new { name = "Corp", provider = "okta" })).Content.ReadFromJsonAsync<JsonObject>())!;
        var scim = ScimClient(_a, directory["token"]!.GetValue<string>());
        var created = await scim.PostAsync($"/scim/v2/{directory["id"]}/Users", Body($$"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{{flowA.Email}}","active":true,
             "emails":[{"primary":true,"type":"work","value":"{{flowA.Email}}"}]}
            """));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var userId = (await ReadAsync(created))["id"]!.GetValue<string>();

        // Signed in through B (its caches now hold the tenant, client and connection), token used on both.
        var (code, verifier) = await flowB.SignInAsync();
        var tokens = (await (await flowB.RedeemAsync(code, verifier)).Content.ReadFromJsonAsync<JsonObject>())!;
        var accessToken = tokens["access_token"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, await _a.UserInfoStatusAsync(accessToken));
        Assert.Equal(HttpStatusCode.OK, await _b.UserInfoStatusAsync(accessToken));

        Assert.Equal(HttpStatusCode.NoContent, (await scim.DeleteAsync($"/scim/v2/{directory["id"]}/Users/{userId}")).StatusCode);
        await _a.DrainQueuesAsync();

        // Neither the directory user nor the revocation marker is cached: refused at once, with no clock advance.
        Assert.Equal(HttpStatusCode.Unauthorized, await _a.UserInfoStatusAsync(accessToken));
        Assert.Equal(HttpStatusCode.Unauthorized, await _b.UserInfoStatusAsync(accessToken));
        foreach (var flow in new[] { flowA, flowB })
        {
            var (requestId, relayState) = await flow.StartAsync("after", null);
            var callback = SignInFlow.CallbackParameters(await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId)), relayState));
            Assert.Equal("access_denied", callback["error"]);
            Assert.Equal("user_deprovisioned", callback["error_description"]);
        }
    }

    [Fact]
    public async Task Refuses_the_access_token_of_a_deleted_or_deactivated_user_from_the_commit_on_before_any_queue_work()
    {
        var flowA = await SignInFlow.CreateAsync(_a);
        var flowB = flowA.On(_b);
        var directory = (await (await flowA.Admin.PostAsJsonAsync($"/api/v1/tenants/{flowA.TenantId}/directories",
            new { name = "Corp", provider = "okta" })).Content.ReadFromJsonAsync<JsonObject>())!;
        var scim = ScimClient(_a, directory["token"]!.GetValue<string>());
        async Task<(string UserId, string AccessToken)> SignedInUserAsync(SignInFlow flow, string email)
        {
            var created = await scim.PostAsync($"/scim/v2/{directory["id"]}/Users", Body($$"""
                {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{{email}}","active":true,
                 "emails":[{"primary":true,"type":"work","value":"{{email}}"}]}
                """));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var (verifier, challenge) = SignInFlow.NewPkce();
            var (requestId, relayState) = await flow.StartAsync("s", challenge);
            var callback = SignInFlow.CallbackParameters(await flow.PostAcsAsync(
                flow.Idp.SignedResponse(flow.Assertion(requestId) with { Email = email }), relayState));
            var tokens = (await (await flow.RedeemAsync(callback["code"], verifier)).Content.ReadFromJsonAsync<JsonObject>())!;
            return ((await ReadAsync(created))["id"]!.GetValue<string>(), tokens["access_token"]!.GetValue<string>());
        }
        var (leaverId, leaverToken) = await SignedInUserAsync(flowB, "leaver@" + flowA.Domain);
        var (suspendedId, suspendedToken) = await SignedInUserAsync(flowB, "suspended@" + flowA.Domain);
        await _a.DrainQueuesAsync();
        Assert.Equal(HttpStatusCode.OK, await _b.UserInfoStatusAsync(leaverToken));
        Assert.Equal(HttpStatusCode.OK, await _b.UserInfoStatusAsync(suspendedToken));

        Assert.Equal(HttpStatusCode.NoContent, (await scim.DeleteAsync($"/scim/v2/{directory["id"]}/Users/{leaverId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await scim.PatchAsync($"/scim/v2/{directory["id"]}/Users/{suspendedId}", Body("""
            {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}
            """))).StatusCode);

        // No queue drained: the deprovisioning task has not written its marker, the user's row answers.
        foreach (var app in new[] { _a, _b })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await app.UserInfoStatusAsync(leaverToken));
            Assert.Equal(HttpStatusCode.Unauthorized, await app.UserInfoStatusAsync(suspendedToken));
        }
    }

    [Fact]
    public async Task Refuses_a_revoked_access_token_at_once_on_every_instance()
    {
        var directory = await CreateAsync(_a);
        var userId = (await directory.CreateUserAsync($"revoked.{Guid.NewGuid():N}@example.com"))["id"]!.GetValue<string>();
        var accessToken = await _a.IssueAccessTokenAsync(directory.TenantId, userId);
        Assert.Equal(HttpStatusCode.OK, await _a.UserInfoStatusAsync(accessToken));
        Assert.Equal(HttpStatusCode.OK, await _b.UserInfoStatusAsync(accessToken));

        await _a.Get<Sso.Functions.OAuth.AccessTokenStore>().RevokeSubjectAsync(new Sso.Functions.Storage.TenantId(directory.TenantId), "sub_" + userId,
            _a.Clock.GetUtcNow(), default);

        Assert.Equal(HttpStatusCode.Unauthorized, await _a.UserInfoStatusAsync(accessToken));
        Assert.Equal(HttpStatusCode.Unauthorized, await _b.UserInfoStatusAsync(accessToken));
    }

    [Fact]
    public async Task Searches_a_new_directory_at_once_where_it_was_created_and_within_its_cache_bound_elsewhere()
    {
        var flowA = await SignInFlow.CreateAsync(_a);
        var flowB = flowA.On(_b);
        async Task<Dictionary<string, string>> SignInAsync(SignInFlow flow)
        {
            var (requestId, relayState) = await flow.StartAsync("directory", null);
            return SignInFlow.CallbackParameters(await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId)), relayState));
        }
        // Both instances look the tenant's directories up once: it has none yet.
        Assert.Equal("user_not_provisioned", (await SignInAsync(flowA))["error_description"]);
        Assert.Equal("user_not_provisioned", (await SignInAsync(flowB))["error_description"]);

        var directory = (await (await flowA.Admin.PostAsJsonAsync($"/api/v1/tenants/{flowA.TenantId}/directories",
            new { name = "Corp", provider = "okta" })).Content.ReadFromJsonAsync<JsonObject>())!;
        var created = await ScimClient(_a, directory["token"]!.GetValue<string>()).PostAsync($"/scim/v2/{directory["id"]}/Users", Body($$"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{{flowA.Email}}","active":true}
            """));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        Assert.True((await SignInAsync(flowA)).ContainsKey("code"));
        Assert.Equal("user_not_provisioned", (await SignInAsync(flowB))["error_description"]);   // B's list is cached
        _a.Clock.Advance(DirectoryRecordStore.DirectoryListCacheFor);
        Assert.True((await SignInAsync(flowB)).ContainsKey("code"));
    }
}
