using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;
using Sso.Testing;

namespace Sso.Functions.Tests.Tenants;

public class TenantEndpointsTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private readonly HttpClient _admin = fixture.App.CreateAdminClient();

    private static string UniqueDomain(string label = "acme") => $"{label}-{Guid.NewGuid():N}"[..20] + ".test";

    private async Task<JsonObject> CreateTenantAsync(string name, params string[] domains)
    {
        var response = await _admin.PostAsJsonAsync("/api/v1/tenants", new { name, domains });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static StringContent Json(string json, string mediaType = "application/json") =>
        new(json, Encoding.UTF8, mediaType);

    [Fact]
    public async Task Creates_a_tenant_with_default_settings_and_reads_it_back()
    {
        var domain = UniqueDomain();
        var created = await CreateTenantAsync("Acme", domain.ToUpperInvariant() + ".");

        var id = created["id"]!.GetValue<string>();
        Assert.StartsWith("ten_", id);
        Assert.Equal("Acme", created["name"]!.GetValue<string>());
        Assert.Equal(domain, created["domains"]![0]!.GetValue<string>());
        Assert.False(created["settings"]!["jitProvisioning"]!.GetValue<bool>());
        Assert.Equal("member", created["settings"]!["defaultRole"]!.GetValue<string>());

        var read = await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{id}");
        Assert.Equal(created.ToJsonString(), read!.ToJsonString());
        Assert.Equal(id, (await fixture.App.Get<TenantStore>().FindTenantIdByDomainAsync(domain, default))?.Value);
    }

    [Fact]
    public async Task Keeps_the_defaults_of_the_settings_a_create_does_not_name()
    {
        var response = await _admin.PostAsJsonAsync("/api/v1/tenants",
            new { name = "Partial", domains = new[] { UniqueDomain() }, settings = new { jitProvisioning = true } });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var settings = (await response.Content.ReadFromJsonAsync<JsonObject>())!["settings"]!;
        Assert.True(settings["jitProvisioning"]!.GetValue<bool>());
        Assert.Equal("member", settings["defaultRole"]!.GetValue<string>());
        Assert.Equal(2, settings["roles"]!.AsArray().Count);
    }

    [Fact]
    public async Task Answers_201_with_a_location_header()
    {
        var response = await _admin.PostAsJsonAsync("/api/v1/tenants", new { name = "Located", domains = new[] { UniqueDomain() } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal($"/api/v1/tenants/{body!["id"]}", response.Headers.Location?.ToString());
    }

    [Fact]
    public async Task Normalizes_an_internationalized_domain_to_punycode()
    {
        var label = "bücher" + Guid.NewGuid().ToString("N")[..6];
        var created = await CreateTenantAsync("Bücher", label + ".example");
        Assert.StartsWith("xn--", created["domains"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Refuses_a_domain_that_another_tenant_claimed_with_409_problem()
    {
        var domain = UniqueDomain();
        await CreateTenantAsync("First", domain);
        var spare = UniqueDomain("spare");

        var response = await _admin.PostAsJsonAsync("/api/v1/tenants", new { name = "Second", domains = new[] { spare, domain } });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.EndsWith("/domain-already-claimed", problem!["type"]!.GetValue<string>());
        Assert.Equal(409, problem["status"]!.GetValue<int>());
        // The losing request's other claim was released, not left half-written.
        Assert.Null(await fixture.App.Get<TenantStore>().FindTenantIdByDomainAsync(spare, default));
    }

    [Fact]
    public async Task Gives_a_domain_to_exactly_one_of_many_parallel_claimants()
    {
        var domain = UniqueDomain("race");
        var attempts = Enumerable.Range(0, 12).Select(i =>
            _admin.PostAsJsonAsync("/api/v1/tenants", new { name = $"Racer {i}", domains = new[] { domain } }));

        var responses = await Task.WhenAll(attempts);

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.Created),
            r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        var winner = await responses.Single(r => r.StatusCode == HttpStatusCode.Created).Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(winner!["id"]!.GetValue<string>(),
            (await fixture.App.Get<TenantStore>().FindTenantIdByDomainAsync(domain, default))?.Value);
    }

    [Fact]
    public async Task Merge_patch_changes_only_the_setting_it_names()
    {
        var created = await CreateTenantAsync("Patchable", UniqueDomain());
        var id = created["id"]!.GetValue<string>();
        var settings = """{"settings":{"defaultRole":"viewer","roles":["viewer","member","admin"],"groupRoleMappings":[{"group":"Admins","role":"admin"}]}}""";
        Assert.Equal(HttpStatusCode.OK, (await _admin.PatchAsync($"/api/v1/tenants/{id}", Json(settings))).StatusCode);

        var response = await _admin.PatchAsync($"/api/v1/tenants/{id}",
            Json("""{"settings":{"jitProvisioning":true}}""", "application/merge-patch+json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var patched = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.True(patched!["settings"]!["jitProvisioning"]!.GetValue<bool>());
        Assert.Equal("viewer", patched["settings"]!["defaultRole"]!.GetValue<string>());
        Assert.Equal("Admins", patched["settings"]!["groupRoleMappings"]![0]!["group"]!.GetValue<string>());
        Assert.Equal("Patchable", patched["name"]!.GetValue<string>());
        var stored = await fixture.App.Get<TenantStore>().FindAsync(new TenantId(id), default);
        Assert.True(stored!.Settings.JitProvisioning);
    }

    [Fact]
    public async Task Patching_domains_claims_the_new_and_releases_the_removed()
    {
        var (kept, dropped, added) = (UniqueDomain("kept"), UniqueDomain("drop"), UniqueDomain("add"));
        var created = await CreateTenantAsync("Mover", kept, dropped);
        var id = created["id"]!.GetValue<string>();

        var response = await _admin.PatchAsync($"/api/v1/tenants/{id}", Json($$"""{"domains":["{{kept}}","{{added}}"]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var store = fixture.App.Get<TenantStore>();
        Assert.Equal(id, (await store.FindTenantIdByDomainAsync(added, default))?.Value);
        Assert.Equal(id, (await store.FindTenantIdByDomainAsync(kept, default))?.Value);
        Assert.Null(await store.FindTenantIdByDomainAsync(dropped, default));
        await CreateTenantAsync("Taker", dropped);
    }

    [Fact]
    public async Task Patching_in_a_domain_of_another_tenant_is_409_and_changes_nothing()
    {
        var taken = UniqueDomain("taken");
        await CreateTenantAsync("Owner", taken);
        var created = await CreateTenantAsync("Grabber", UniqueDomain());
        var id = created["id"]!.GetValue<string>();
        var fresh = UniqueDomain("fresh");

        var response = await _admin.PatchAsync($"/api/v1/tenants/{id}",
            Json($$"""{"name":"Renamed","domains":["{{fresh}}","{{taken}}"]}"""));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var stored = await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{id}");
        Assert.Equal(created.ToJsonString(), stored!.ToJsonString());
        Assert.Null(await fixture.App.Get<TenantStore>().FindTenantIdByDomainAsync(fresh, default));
    }

    [Fact]
    public async Task Deletes_a_tenant_and_releases_its_domains()
    {
        var domain = UniqueDomain("gone");
        var created = await CreateTenantAsync("Doomed", domain);
        var id = created["id"]!.GetValue<string>();

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/v1/tenants/{id}")).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync($"/api/v1/tenants/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.DeleteAsync($"/api/v1/tenants/{id}")).StatusCode);
        Assert.Null(await fixture.App.Get<TenantStore>().FindTenantIdByDomainAsync(domain, default));
    }

    [Fact]
    public async Task Lists_tenants_in_pages()
    {
        for (var i = 0; i < 3; i++) await CreateTenantAsync($"Listed {i}", UniqueDomain("list"));

        var first = await _admin.GetFromJsonAsync<JsonObject>("/api/v1/tenants?limit=2");

        Assert.Equal(2, first!["data"]!.AsArray().Count);
        var cursor = first["nextCursor"]!.GetValue<string>();
        var second = await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants?limit=2&cursor={Uri.EscapeDataString(cursor)}");
        Assert.NotEmpty(second!["data"]!.AsArray());
        var ids = first["data"]!.AsArray().Concat(second["data"]!.AsArray()).Select(t => t!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    public static TheoryData<string, string, string> BadCreateBodies => new()
    {
        { "malformed JSON", """{"name": "Broken", "domains": [""", "invalid-json" },
        { "not an object", """["a"]""", "invalid-json" },
        { "an unknown field", """{"name":"X","domains":[],"plan":"gold"}""", "unknown-field" },
        { "an unknown settings field", """{"name":"X","settings":{"jit":true}}""", "unknown-field" },
        { "a wrong type", """{"name":42}""", "invalid-json" },
        { "no name", """{"domains":[]}""", "validation-failed" },
        { "an email as a domain", """{"name":"X","domains":["bob@acme.test"]}""", "validation-failed" },
        { "a domain without a TLD", """{"name":"X","domains":["localhost"]}""", "validation-failed" },
        { "a domain with bad characters", """{"name":"X","domains":["ac_me.test"]}""", "validation-failed" },
        { "a default role that is not a role", """{"name":"X","settings":{"defaultRole":"owner"}}""", "validation-failed" },
        { "a mapping to an unknown role", """{"name":"X","settings":{"groupRoleMappings":[{"group":"G","role":"root"}]}}""", "validation-failed" },
    };

    [Theory]
    [MemberData(nameof(BadCreateBodies))]
    public async Task Refuses_a_create_with_400_problem_and_writes_nothing(string _, string body, string code)
    {
        var marker = UniqueDomain("bad");
        var withMarker = body.Contains("\"domains\":[]")
            ? body.Replace("\"domains\":[]", $"\"domains\":[\"{marker}\"]")
            : body;

        var response = await _admin.PostAsync("/api/v1/tenants", Json(withMarker));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.EndsWith("/" + code, problem!["type"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(problem["detail"]?.GetValue<string>()));
        Assert.Null(await fixture.App.Get<TenantStore>().FindTenantIdByDomainAsync(marker, default));
    }

    public static TheoryData<string, string> BadPatchBodies => new()
    {
        { "malformed JSON", """{"settings": {""" },
        { "an unknown field", """{"plan":"gold"}""" },
        { "an unknown settings field", """{"settings":{"jit":true}}""" },
        { "a wrong settings type", """{"settings":{"jitProvisioning":"yes"}}""" },
        { "a removed name", """{"name":null}""" },
        { "an invalid domain", """{"domains":["not a domain"]}""" },
    };

    [Theory]
    [MemberData(nameof(BadPatchBodies))]
    public async Task Refuses_a_bad_patch_with_400_problem_and_leaves_the_tenant_unchanged(string _, string body)
    {
        var created = await CreateTenantAsync("Stable", UniqueDomain());
        var id = created["id"]!.GetValue<string>();

        var response = await _admin.PatchAsync($"/api/v1/tenants/{id}", Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var stored = await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{id}");
        Assert.Equal(created.ToJsonString(), stored!.ToJsonString());
    }

    [Fact]
    public async Task Refuses_a_body_that_is_not_json_with_415()
    {
        var response = await _admin.PostAsync("/api/v1/tenants", new StringContent("name=x", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Theory]
    [InlineData("ten_doesnotexist")]
    [InlineData("ten_0000000000000000000000000a")]
    [InlineData("..%2F..")]
    public async Task Answers_404_problem_for_an_unknown_tenant(string id)
    {
        var response = await _admin.GetAsync($"/api/v1/tenants/{id}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
