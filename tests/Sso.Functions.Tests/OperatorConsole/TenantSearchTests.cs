using Sso.Functions.OperatorConsole;
using Sso.Testing;

namespace Sso.Functions.Tests.OperatorConsole;

/// <summary>The console's tenant list (<see cref="TenantSearch"/>) called as an operation, against Azurite.</summary>
public class TenantSearchTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private TenantSearch Search => fixture.App.Get<TenantSearch>();

    [Fact]
    public async Task Finds_tenants_by_exact_domain_part_of_a_name_or_id_and_nothing_else()
    {
        var word = "Zephyr" + Guid.NewGuid().ToString("N")[..8];
        var domain = TestTenant.UniqueDomain("zephyr");
        var first = await TestTenant.CreateAsync(fixture.App, word + " Ltd", domain);
        var second = await TestTenant.CreateAsync(fixture.App, "The " + word + " Group");
        var unrelated = await TestTenant.CreateAsync(fixture.App, "Unrelated");

        var byName = await Search.SearchAsync(word.ToLowerInvariant(), null, default);
        var ids = byName.Tenants.Select(t => t.Id.Value).ToList();
        Assert.Contains(first.TenantId, ids);
        Assert.Contains(second.TenantId, ids);
        Assert.DoesNotContain(unrelated.TenantId, ids);

        var byDomain = await Search.SearchAsync(domain.ToUpperInvariant(), null, default);
        Assert.Equal(first.TenantId, Assert.Single(byDomain.Tenants).Id.Value);

        var byId = await Search.SearchAsync(second.TenantId, null, default);
        Assert.Equal(second.TenantId, Assert.Single(byId.Tenants).Id.Value);

        Assert.Empty((await Search.SearchAsync("no-such-tenant-" + Guid.NewGuid().ToString("N"), null, default)).Tenants);
    }

    [Fact]
    public async Task Lists_every_tenant_a_page_at_a_time_without_a_query()
    {
        for (var i = 0; i < TenantSearch.PageSize + 1; i++) await TestTenant.CreateAsync(fixture.App, "Paged " + i);

        var page = await Search.SearchAsync("", null, default);
        Assert.Equal(TenantSearch.PageSize, page.Tenants.Count);
        Assert.NotNull(page.NextCursor);
        var rest = await Search.SearchAsync("", page.NextCursor, default);
        Assert.NotEmpty(rest.Tenants);
        Assert.Empty(rest.Tenants.Select(t => t.Id).Intersect(page.Tenants.Select(t => t.Id)));
    }
}
