using System.Text;
using Sso.Functions.Hosting;
using Sso.Functions.Tenants;
using static Sso.Functions.OperatorConsole.ConsoleLayout;

namespace Sso.Functions.OperatorConsole;

/// <summary><c>/console/tenants</c>: the tenants, searchable by name or domain, a page at a time (read by <see cref="TenantSearch"/>).</summary>
public static class TenantListPage
{
    public const string Path = Base + "/tenants";

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
        var found = await context.RequestServices.GetRequiredService<TenantSearch>().SearchAsync(query, cursor, context.RequestAborted);
        var model = new Model(found.Tenants, query, found.NextCursor, cursor is null);
        return ConsoleResults.Page(signedIn, 200, "Tenants", ConsoleSection.Tenants, Render(model, signedIn.Viewer),
            Flash(context.Request.Query["done"], new Dictionary<string, string> { ["deleted"] = "The tenant was deleted." }));
    }

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
