using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sso.Functions.DirectorySync;
using Microsoft.AspNetCore.Http;
using Sso.Functions.Hosting;
using Sso.Functions.Tests.Scim;
using Sso.Testing;
using static Sso.Functions.Tests.Scim.ScimTestDirectory;

namespace Sso.Functions.Tests.DirectorySync;

/// <summary>SCIM tokens with names, creators and expiry; the expiry notice. Each test gets its own app and clock.</summary>
public class DirectoryTokenLifecycleTests
{
    private static string Rfc3339(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string TokensPath(ScimTestDirectory d) => $"/api/v1/tenants/{d.TenantId}/directories/{d.DirectoryId}/tokens";

    private static async Task<JsonObject> CreateTokenAsync(ScimTestDirectory directory, object body)
    {
        var response = await directory.Admin.PostAsJsonAsync(TokensPath(directory), body);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await ReadAsync(response);
    }

    private static HttpClient ScimClient(SsoAppFactory app, string token)
    {
        var client = app.CreateAnonymousClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static string AdminKeyId => new AdminKeys([SsoAppFactory.AdminKey], []).Authenticate(AdminRequest())!;

    private static HttpRequest AdminRequest()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Authorization = "Bearer " + SsoAppFactory.AdminKey;
        return context.Request;
    }

    [Fact]
    public async Task Creates_a_named_expiring_token_and_lists_it_with_its_creator_but_never_the_token()
    {
        await using var app = new SsoAppFactory(await AzuriteServer.Shared);
        var directory = await CreateAsync(app);
        var expiresAt = app.Clock.GetUtcNow().AddDays(90);

        var created = await CreateTokenAsync(directory, new { name = "Okta provisioning", expiresAt = Rfc3339(expiresAt) });

        Assert.StartsWith("tok_", created["id"]!.GetValue<string>());
        Assert.StartsWith("scim_", created["token"]!.GetValue<string>());
        Assert.Equal("Okta provisioning", created["name"]!.GetValue<string>());
        Assert.Equal(Rfc3339(expiresAt), Rfc3339(created["expiresAt"]!.GetValue<DateTimeOffset>()));

        var text = await directory.Admin.GetStringAsync(TokensPath(directory));
        Assert.DoesNotContain(created["token"]!.GetValue<string>(), text);
        Assert.DoesNotContain(directory.Token, text);
        var tokens = JsonNode.Parse(text)!["data"]!.AsArray();
        Assert.Equal(2, tokens.Count);
        var first = tokens.Single(t => t!["id"]!.GetValue<string>() == directory.TokenId)!;
        Assert.Equal(DirectoryEndpoints.DefaultTokenName, first["name"]!.GetValue<string>());
        Assert.Null(first["expiresAt"]);
        Assert.Equal(AdminKeyId, first["createdBy"]!.GetValue<string>());
        var named = tokens.Single(t => t!["id"]!.GetValue<string>() == created["id"]!.GetValue<string>())!;
        Assert.Equal("Okta provisioning", named["name"]!.GetValue<string>());
        Assert.Equal(AdminKeyId, named["createdBy"]!.GetValue<string>());
        Assert.Equal(Rfc3339(expiresAt), Rfc3339(named["expiresAt"]!.GetValue<DateTimeOffset>()));
        Assert.Null(named["lastUsed"]);
        Assert.NotNull(named["created"]);

        // Used once: lastUsed appears.
        Assert.Equal(HttpStatusCode.OK, (await ScimClient(app, created["token"]!.GetValue<string>()).GetAsync(directory.Base + "/Users")).StatusCode);
        var listed = (await directory.Admin.GetFromJsonAsync<JsonObject>(TokensPath(directory)))!["data"]!.AsArray();
        Assert.NotNull(listed.Single(t => t!["id"]!.GetValue<string>() == created["id"]!.GetValue<string>())!["lastUsed"]);
    }

    [Fact]
    public async Task Refuses_an_expired_token_at_SCIM_exactly_like_a_revoked_one()
    {
        await using var app = new SsoAppFactory(await AzuriteServer.Shared);
        var directory = await CreateAsync(app);
        var expiring = await CreateTokenAsync(directory, new { name = "short", expiresAt = Rfc3339(app.Clock.GetUtcNow().AddDays(1)) });
        var revoked = await CreateTokenAsync(directory, new { name = "revoked" });
        var expiringClient = ScimClient(app, expiring["token"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await expiringClient.GetAsync(directory.Base + "/Users")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent,
            (await directory.Admin.DeleteAsync(TokensPath(directory) + "/" + revoked["id"]!.GetValue<string>())).StatusCode);

        app.Clock.Advance(TimeSpan.FromDays(1));

        var expired = await expiringClient.GetAsync(directory.Base + "/Users");
        var revokedResponse = await ScimClient(app, revoked["token"]!.GetValue<string>()).GetAsync(directory.Base + "/Users");
        await AssertScimErrorAsync(expired, HttpStatusCode.Unauthorized, null);
        await AssertScimErrorAsync(revokedResponse, HttpStatusCode.Unauthorized, null);
        Assert.Equal(await revokedResponse.Content.ReadAsStringAsync(), await expired.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await expiringClient.GetAsync(directory.Base + "/ServiceProviderConfig")).StatusCode);
        // The token without expiry still works.
        Assert.Equal(HttpStatusCode.OK, (await directory.GetAsync("/Users")).StatusCode);
    }

    [Theory]
    [InlineData("in the past", "past")]
    [InlineData("now", "now")]
    [InlineData("too far ahead", "far")]
    [InlineData("no offset", "2031-01-01T00:00:00")]
    [InlineData("a date only", "2031-01-01")]
    [InlineData("not a date", "soon")]
    public async Task Refuses_a_bad_expiresAt_with_a_problem_and_writes_no_token(string name, string expiresAt)
    {
        await using var app = new SsoAppFactory(await AzuriteServer.Shared);
        var directory = await CreateAsync(app);
        var now = app.Clock.GetUtcNow();
        var value = expiresAt switch
        {
            "past" => Rfc3339(now.AddMinutes(-1)),
            "now" => Rfc3339(now),
            "far" => Rfc3339(now.AddYears(6)),
            _ => expiresAt,
        };

        var response = await directory.Admin.PostAsJsonAsync(TokensPath(directory), new { name = "bad", expiresAt = value });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await ReadAsync(response);
        Assert.EndsWith("/validation-failed", problem["type"]!.GetValue<string>());
        Assert.Contains("expiresAt", problem["detail"]!.GetValue<string>());
        var tokens = (await directory.Admin.GetFromJsonAsync<JsonObject>(TokensPath(directory)))!["data"]!.AsArray();
        Assert.Equal([directory.TokenId], tokens.Select(t => t!["id"]!.GetValue<string>()));
        Assert.NotNull(name);
    }

    [Fact]
    public async Task Emits_one_expiring_event_seven_days_ahead_and_one_expired_event_however_often_the_timer_runs()
    {
        await using var app = new SsoAppFactory(await AzuriteServer.Shared);
        var directory = await CreateAsync(app);
        var now = app.Clock.GetUtcNow();
        var soon = await CreateTokenAsync(directory, new { name = "soon", expiresAt = Rfc3339(now.AddDays(10)) });
        await CreateTokenAsync(directory, new { name = "later", expiresAt = Rfc3339(now.AddDays(30)) });
        var timer = app.CreateAnonymousClient();

        // 4 days before: not yet inside the notice period.
        Assert.Equal(HttpStatusCode.OK, (await timer.PostAsync("/" + TokenExpiryNotice.Function.FunctionName, JsonContent.Create(new { }))).StatusCode);
        app.Clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Empty(await ExpiringEventsAsync(directory));

        app.Clock.Advance(TimeSpan.FromDays(4));  // 6 days before expiry
        Assert.Equal(HttpStatusCode.OK, (await timer.PostAsync("/" + TokenExpiryNotice.Function.FunctionName, JsonContent.Create(new { }))).StatusCode);
        app.Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(HttpStatusCode.OK, (await timer.PostAsync("/" + TokenExpiryNotice.Function.FunctionName, JsonContent.Create(new { }))).StatusCode);
        Assert.Equal(0, await TokenExpiryNotice.NotifyAsync(app.Get<DirectoryRecordStore>(), app.Clock.GetUtcNow(), default));
        app.Clock.Advance(TimeSpan.FromSeconds(3));

        var events = await ExpiringEventsAsync(directory);
        var notice = Assert.Single(events);
        Assert.Equal(directory.DirectoryId, notice["directoryId"]!.GetValue<string>());
        Assert.Equal(soon["id"]!.GetValue<string>(), notice["data"]!["tokenId"]!.GetValue<string>());
        Assert.Equal("soon", notice["data"]!["name"]!.GetValue<string>());
        Assert.Equal(Rfc3339(now.AddDays(10)), Rfc3339(notice["data"]!["expiresAt"]!.GetValue<DateTimeOffset>()));
        Assert.DoesNotContain(soon["token"]!.GetValue<string>(), notice.ToJsonString());
        // The token still works until it expires.
        Assert.Equal(HttpStatusCode.OK, (await ScimClient(app, soon["token"]!.GetValue<string>()).GetAsync(directory.Base + "/Users")).StatusCode);
        Assert.Empty(await ExpiringEventsAsync(directory, TokenExpiryNotice.ExpiredEvent));

        // Past its expiry: one dsync.token.expired, however often the timer runs; no second expiring notice.
        app.Clock.Advance(TimeSpan.FromDays(6));
        Assert.Equal(HttpStatusCode.OK, (await timer.PostAsync("/" + TokenExpiryNotice.Function.FunctionName, JsonContent.Create(new { }))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await timer.PostAsync("/" + TokenExpiryNotice.Function.FunctionName, JsonContent.Create(new { }))).StatusCode);
        app.Clock.Advance(TimeSpan.FromSeconds(3));
        var expired = Assert.Single(await ExpiringEventsAsync(directory, TokenExpiryNotice.ExpiredEvent));
        Assert.Equal(soon["id"]!.GetValue<string>(), expired["data"]!["tokenId"]!.GetValue<string>());
        Assert.Single(await ExpiringEventsAsync(directory));
    }

    private static async Task<List<JsonObject>> ExpiringEventsAsync(ScimTestDirectory directory, string type = TokenExpiryNotice.ExpiringEvent)
    {
        await directory.App.FlushAsync();
        var feed = (await directory.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={directory.TenantId}&limit=200"))!;
        return feed["data"]!.AsArray().Select(e => e!.AsObject())
            .Where(e => e["type"]!.GetValue<string>() == type).ToList();
    }
}
