using Sso.Functions.Tenants;

namespace Sso.Functions.OperatorConsole;

/// <summary>A page of tenants and the cursor to read on from (null at the end).</summary>
public sealed record TenantSearchPage(IReadOnlyList<Tenant> Tenants, string? NextCursor);

/// <summary>
/// The console's tenant list (<see cref="TenantListPage"/> renders it): a page of every tenant, or
/// the tenants whose name, domain or id match a search. No HTTP, no change.
/// </summary>
public sealed class TenantSearch(TenantStore tenants)
{
    public const int PageSize = 25;

    /// <summary>How many tenants one search reads at most before it offers the next page.</summary>
    public const int ScanLimit = 1000;

    private const int ScanPageSize = 100;

    /// <param name="query">Empty lists every tenant; otherwise an exact domain, or a part of a name or domain, or an id.</param>
    public async Task<TenantSearchPage> SearchAsync(string query, string? cursor, CancellationToken cancellationToken)
    {
        if (query.Length == 0)
        {
            var (page, after) = await tenants.ListAsync(cursor, PageSize, cancellationToken);
            return new TenantSearchPage(page, after);
        }
        var found = new List<Tenant>();
        // An exact domain finds its tenant through the claim; anything else is matched as a
        // part of a name or domain while reading the tenants in pages.
        if (cursor is null && await tenants.FindTenantIdByDomainAsync(query.ToLowerInvariant(), cancellationToken) is { } owner
            && await tenants.FindAsync(owner, cancellationToken) is { } claimed)
            found.Add(claimed);
        var next = cursor;
        var scanned = 0;
        do
        {
            (var page, next) = await tenants.ListAsync(next, ScanPageSize, cancellationToken);
            scanned += page.Count;
            foreach (var tenant in page)
                if (Matches(tenant, query) && found.All(t => t.Id != tenant.Id)) found.Add(tenant);
        } while (next is not null && found.Count < PageSize && scanned < ScanLimit);
        return new TenantSearchPage(found, next);
    }

    public static bool Matches(Tenant tenant, string query) =>
        tenant.Name.Contains(query, StringComparison.OrdinalIgnoreCase)
        || tenant.Domains.Any(d => d.Contains(query, StringComparison.OrdinalIgnoreCase))
        || tenant.Id.Value.Equals(query, StringComparison.OrdinalIgnoreCase);
}
