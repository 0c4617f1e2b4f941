using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Audit;
using Sso.Functions.Tests.Scim;
using Sso.Testing;

namespace Sso.Functions.Tests.Audit;

public class AuditPagingTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private readonly HttpClient _admin = fixture.App.CreateAdminClient();

    private async Task<JsonObject> PageAsync(string url)
    {
        // Rows are written after the answer: wait for every row of the requests made so far.
        await fixture.App.FlushAsync();
        var response = await _admin.GetAsync(url);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    [Fact]
    public async Task Pages_newest_first_with_a_stable_cursor_and_filters_by_type()
    {
        var directory = await ScimTestDirectory.CreateAsync(fixture.App);   // tenant.create, directory.create
        for (var i = 0; i < 3; i++)
        {
            fixture.App.Clock.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(HttpStatusCode.OK, (await directory.GetAsync("/Users")).StatusCode);
        }
        await fixture.App.FlushAsync();
        var baseUrl = $"/api/v1/tenants/{directory.TenantId}/audit";

        var seen = new List<JsonObject>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await PageAsync(baseUrl + "?limit=2" + (cursor is null ? "" : "&after=" + cursor));
            var data = page["data"]!.AsArray().Select(r => r!.AsObject()).ToList();
            Assert.InRange(data.Count, 1, 2);
            seen.AddRange(data);
            cursor = page["nextCursor"]?.GetValue<string>();
            pages++;
            // A row written while paging sorts before the cursor, so it never shifts the pages still to come.
            if (pages == 1)
                Assert.Equal(HttpStatusCode.OK, (await directory.GetAsync("/Groups")).StatusCode);
        } while (cursor is not null);

        Assert.Equal(5, seen.Count);
        Assert.Equal(3, pages);
        Assert.Equal(seen.Count, seen.Select(r => r["id"]!.GetValue<string>()).Distinct().Count());
        var times = seen.Select(r => DateTimeOffset.Parse(r["occurredAt"]!.GetValue<string>())).ToList();
        Assert.Equal(times.OrderByDescending(t => t), times);
        Assert.Equal(["scim.request", "scim.request", "scim.request", "management.change", "management.change"],
            seen.Select(r => r["type"]!.GetValue<string>()));

        var scimOnly = await PageAsync(baseUrl + "?type=scim.request&limit=200");
        Assert.Equal(4, scimOnly["data"]!.AsArray().Count);
        Assert.Null(scimOnly["nextCursor"]);
        Assert.All(scimOnly["data"]!.AsArray(), r => Assert.Equal("scim.request", r!["type"]!.GetValue<string>()));
        var changes = await PageAsync(baseUrl + "?type=management.change&limit=1");
        Assert.Equal("directory.create", changes["data"]![0]!["action"]!.GetValue<string>());
        var older = await PageAsync(baseUrl + "?type=management.change&limit=1&after=" + changes["nextCursor"]!.GetValue<string>());
        Assert.Equal("tenant.create", older["data"]![0]!["action"]!.GetValue<string>());
        Assert.Null(older["nextCursor"]);
        Assert.Empty((await PageAsync(baseUrl + "?type=signin.attempt"))["data"]!.AsArray());
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=201")]
    [InlineData("limit=ten")]
    [InlineData("type=sso.login")]
    [InlineData("after=evt_123")]
    [InlineData("after=aud_x'%20or%20PartitionKey%20ne%20'")]
    public async Task Answers_400_for_a_bad_query(string query)
    {
        var tenant = await _admin.PostAsJsonAsync("/api/v1/tenants", new { name = "Acme", domains = Array.Empty<string>() });
        var tenantId = (await tenant.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();

        var response = await _admin.GetAsync($"/api/v1/tenants/{tenantId}/audit?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Answers_404_for_an_unknown_tenant_and_401_without_the_admin_key()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync("/api/v1/tenants/ten_00000000000000000000000000/audit")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync("/api/v1/tenants/not-a-tenant/audit")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await fixture.App.CreateAnonymousClient().GetAsync("/api/v1/tenants/ten_00000000000000000000000000/audit")).StatusCode);
    }
}
