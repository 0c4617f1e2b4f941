using Sso.Functions.Hosting;

namespace Sso.Functions.OperatorConsole;

/// <summary>
/// <c>/console</c>: the SaaS team's operator console, server-rendered (issue 16). Every page is its
/// own function; each handler passes <see cref="ConsoleSessionGate"/>, calls the same operation as
/// the management API and renders through <see cref="ConsoleLayout"/>.
/// </summary>
public static class ConsoleEndpoints
{
    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        .. ConsoleSignIn.Endpoints,
        .. ConsoleOidcSignIn.Endpoints,
        .. TenantListPage.Endpoints,
        .. TenantCreatePage.Endpoints,
        .. TenantPage.Endpoints,
        .. ConsoleActivityEndpoints.Endpoints,
        new("ConsoleStyles", ConsoleAssets.StylePath, ["GET"],
            _ => Task.FromResult(BrowserPages.Asset(ConsoleAssets.StyleBytes, "text/css; charset=utf-8"))),
        new("ConsoleScript", ConsoleAssets.ScriptPath, ["GET"],
            _ => Task.FromResult(BrowserPages.Asset(ConsoleAssets.ScriptBytes, "text/javascript; charset=utf-8"))),
    ];

    /// <summary>The console's page for a failure the pipeline answers (a 500 or 503): the console's shell, no details.</summary>
    public static IResult ErrorPage(int status, string title, string message) => ConsoleResults.Refused(status, title, message);
}
