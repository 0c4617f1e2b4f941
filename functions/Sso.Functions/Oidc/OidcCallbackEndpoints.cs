using Sso.Functions.Hosting;
using Sso.Functions.OAuth;

namespace Sso.Functions.Oidc;

/// <summary>
/// <c>GET /oidc/callback</c>: one redirect URI for every OIDC connection. Reads the query, hands it
/// to <see cref="OidcSignInCompletion"/> and writes its answer.
/// </summary>
public static class OidcCallbackEndpoints
{
    public const string Route = "/oidc/callback";

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("OidcCallback", Route, ["GET"], CallbackAsync),
    ];

    private static async Task<IResult> CallbackAsync(HttpContext context)
    {
        var query = context.Request.Query;
        context.Response.Headers.CacheControl = "no-store";
        var callback = new OidcCallback(query["state"].Count == 1 ? query["state"].ToString() : null,
            [.. query["iss"].OfType<string>()], query["error"].ToString(), [.. query["code"].OfType<string>()]);
        var completion = await context.RequestServices.GetRequiredService<OidcSignInCompletion>()
            .CompleteAsync(callback, context.RequestAborted);
        return SignInCompletion.ToResult(context, completion);
    }
}
