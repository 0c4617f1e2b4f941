using System.Text;
using Sso.Functions.Hosting;
using Sso.Functions.Tenants;
using static Sso.Functions.OperatorConsole.ConsoleLayout;

namespace Sso.Functions.OperatorConsole;

/// <summary><c>/console/tenants</c>: the tenants, searchable by name or domain, a page at a time.</summary>
public static class TenantListPage
{
    public const string Path = Base + "/tenants";
    public const int PageSize = 25;

    /// <summary>How many tenants one search request reads at most before it offers the next page.</summary>
    public const int ScanLimit = 1000;

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("ConsoleTenants", Path, ["GET"], ListAsync),
    ];

    public sealed record Model(IReadOnlyList<Tenant> Tenants, string Query, string? NextCursor, bool IsFirstPage);

    private static async Task<IResult> ListAsync(HttpContext context)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        var query = context.Request.Query["q"].ToString().Trim();
        if (query.Length > 200) query = query[..200];
        var cursor = context.Request.Query["cursor"].ToString() is { Length: > 0 and <= 2000 } c ? c : null;
        var store = context.RequestServices.GetRequiredService<TenantStore>();

        var found = new List<Tenant>();
        string? next = cursor;
        if (query.Length == 0)
        {
            (var tenants, next) = await store.ListAsync(cursor, PageSize, context.RequestAborted);
            found.AddRange(tenants);
        }
        else
        {
            // An exact domain finds its tenant through the claim; anything else is matched as a
            // part of a name or domain while reading the tenants in pages.
            if (cursor is null && await store.FindTenantIdByDomainAsync(query.ToLowerInvariant(), context.RequestAborted) is { } owner
                && await store.FindAsync(owner, context.RequestAborted) is { } claimed)
                found.Add(claimed);
            var scanned = 0;
            do
            {
                (var tenants, next) = await store.ListAsync(next, 100, context.RequestAborted);
                scanned += tenants.Count;
                foreach (var tenant in tenants)
                    if (Matches(tenant, query) && found.All(t => t.Id != tenant.Id)) found.Add(tenant);
            } while (next is not null && found.Count < PageSize && scanned < ScanLimit);
        }
        var model = new Model(found, query, next, cursor is null);
        return ConsoleResults.Page(signedIn, 200, "Tenants", ConsoleSection.Tenants, Render(model, signedIn.Viewer),
            Flash(context.Request.Query["done"], new Dictionary<string, string> { ["deleted"] = "The tenant was deleted." }));
    }

    public static bool Matches(Tenant tenant, string query) =>
        tenant.Name.Contains(query, StringComparison.OrdinalIgnoreCase)
        || tenant.Domains.Any(d => d.Contains(query, StringComparison.OrdinalIgnoreCase))
        || tenant.Id.Value.Equals(query, StringComparison.OrdinalIgnoreCase);

    public static string Render(Model model, ConsoleViewer viewer)
    {
        var html = new StringBuilder()
            .Append("<form method=\"get\" action=\"").Append(Path).Append("\" class=\"search\" role=\"search\">")
            .Append("<label for=\"q\" class=\"muted\">Search</label>")
            .Append("<input type=\"search\" id=\"q\" name=\"q\" value=\"").Append(E(model.Query)).Append("\" placeholder=\"Name or domain\">")
            .Append("<button type=\"submit\" class=\"secondary\">Search</button>")
            .Append("<a class=\"button\" href=\"").Append(TenantCreatePage.Path).Append("\">New tenant</a></form>");
        if (model.Tenants.Count == 0)
            html.Append("<p class=\"muted\">").Append(model.Query.Length > 0 ? "No tenant matches “" + E(model.Query) + "”." : "There are no tenants yet.").Append("</p>");
        else
        {
            html.Append("<table class=\"tenants\"><thead><tr><th>Name</th><th>Domains</th><th>SSO</th><th>Created</th></tr></thead><tbody>");
            foreach (var tenant in model.Tenants)
            {
                html.Append("<tr><td><a href=\"").Append(TenantPage.PathOf(tenant.Id)).Append("\">").Append(E(tenant.Name)).Append("</a>")
                    .Append("<br><code class=\"muted\">").Append(E(tenant.Id.Value)).Append("</code></td><td>")
                    .Append(string.Join(", ", tenant.Domains.Select(E))).Append("</td><td>")
                    .Append(tenant.Settings.EnforceSso ? Badge("ok", "enforced") : Badge("muted", "optional")).Append("</td><td>")
                    .Append(Time(tenant.CreatedAt)).Append("</td></tr>");
            }
            html.Append("</tbody></table>");
        }
        html.Append("<nav class=\"pager\" aria-label=\"Pages\">");
        if (!model.IsFirstPage) html.Append("<a href=\"").Append(Path).Append(model.Query.Length > 0 ? "?q=" + Q(model.Query) : "").Append("\">First page</a>");
        if (model.NextCursor is not null)
            html.Append("<a href=\"").Append(Path).Append("?cursor=").Append(Q(model.NextCursor))
                .Append(model.Query.Length > 0 ? "&amp;q=" + Q(model.Query) : "").Append("\">Next page</a>");
        return html.Append("</nav>").ToString();
    }
}
