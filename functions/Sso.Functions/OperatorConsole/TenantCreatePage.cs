using System.Text;
using Sso.Functions.Audit;
using Sso.Functions.Hosting;
using Sso.Functions.Tenants;
using static Sso.Functions.OperatorConsole.ConsoleLayout;

namespace Sso.Functions.OperatorConsole;

/// <summary><c>/console/tenants/new</c>: create a tenant through <see cref="TenantAdministration"/>, the API's own rules and messages.</summary>
public static class TenantCreatePage
{
    public const string Path = TenantListPage.Path + "/new";

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("ConsoleNewTenant", Path, ["GET"], FormAsync),
        new("ConsoleCreateTenant", TenantListPage.Path, ["POST"], CreateAsync),
    ];

    private static async Task<IResult> FormAsync(HttpContext context)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        return ConsoleResults.Page(signedIn, 200, "New tenant", ConsoleSection.Tenants, Render(signedIn.Viewer, "", "", null));
    }

    private static async Task<IResult> CreateAsync(HttpContext context)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        if (!(await ConsoleSessionGate.ReadFormAsync(context, signedIn)).TryGetValue(out var form, out var forbidden)) return forbidden;
        var name = form["name"].ToString();
        var domainsText = form["domains"].ToString();
        var request = new CreateTenantRequest { Name = name, Domains = SplitDomains(domainsText) };
        var created = await context.RequestServices.GetRequiredService<TenantAdministration>().CreateAsync(request, context.RequestAborted);
        if (!created.TryGetValue(out var tenant, out var problem))
        {
            await ConsoleResults.AuditAsync(context, signedIn, null, "tenant.create", null, ["name", "domains"], problem);
            return ConsoleResults.Page(signedIn, problem.Status, "New tenant", ConsoleSection.Tenants, Render(signedIn.Viewer, name, domainsText, problem));
        }
        context.Items[RequestPipeline.TenantItem] = tenant.Id.Value;
        await ConsoleResults.AuditAsync(context, signedIn, tenant.Id.Value, "tenant.create", new AuditTarget("tenant", tenant.Id.Value), ["name", "domains"]);
        return ConsoleResults.SeeOther(TenantPage.PathOf(tenant.Id) + "?done=created");
    }

    /// <summary>Domains as typed: one per line, or separated by commas or spaces.</summary>
    public static string[] SplitDomains(string text) =>
        text.Split([',', ' ', '\n', '\r', '\t', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The API's problem as the form's error: its title and detail, as the API would answer.</summary>
    public static string ProblemAlert(Problem problem) =>
        $"<div class=\"alert error\" role=\"alert\"><strong>{E(problem.Title)}</strong><br>{E(problem.Detail)} <span class=\"muted\">({E(problem.Code)})</span></div>";

    public static string Render(ConsoleViewer viewer, string name, string domains, Problem? problem)
    {
        var html = new StringBuilder();
        if (problem is not null) html.Append(ProblemAlert(problem));
        html.Append("<form method=\"post\" action=\"").Append(TenantListPage.Path).Append("\" class=\"stack\">").Append(CsrfField(viewer.CsrfToken))
            .Append("<label class=\"field\" for=\"name\">Name</label>")
            .Append("<input type=\"text\" id=\"name\" name=\"name\" maxlength=\"200\" required value=\"").Append(E(name)).Append("\">")
            .Append("<label class=\"field\" for=\"domains\">Email domains <span class=\"hint\">one per line; each gets a TXT record to publish</span></label>")
            .Append("<textarea id=\"domains\" name=\"domains\" rows=\"3\">").Append(E(domains)).Append("</textarea>")
            .Append("<button type=\"submit\">Create tenant</button></form>");
        return html.ToString();
    }
}
