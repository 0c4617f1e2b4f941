using Sso.Functions.Hosting;

namespace Sso.Functions.OAuth;

/// <summary>
/// Rotation of the id_token signing key: rotate makes a new key current (it signs from now on)
/// and keeps the previous ones in the JWKS, so tokens they signed keep validating until an
/// administrator retires them.
/// </summary>
public static class SigningKeyEndpoints
{
    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("ListSigningKeys", "/api/v1/signing-keys", ["GET"], AdminApi.Require(ListAsync)),
        new("RotateSigningKey", "/api/v1/signing-keys/rotate", ["POST"], AdminApi.Require(RotateAsync)),
        new("RetireSigningKey", "/api/v1/signing-keys/{kid}", ["DELETE"], AdminApi.Require(RetireAsync)),
    ];

    private static async Task<IResult> ListAsync(HttpContext context)
    {
        var keys = context.RequestServices.GetRequiredService<TokenSigningKeys>();
        var ring = await keys.ListAsync(context.RequestAborted);
        if (ring.Count == 0)
        {
            await keys.GetCurrentAsync(context.RequestAborted);  // first use creates the ring
            ring = await keys.ListAsync(context.RequestAborted);
        }
        return JsonResults.Ok(new SigningKeyList(ring.Select((k, i) => View(k, i == 0)).ToArray()), SsoJsonContext.Default.SigningKeyList);
    }

    private static async Task<IResult> RotateAsync(HttpContext context)
    {
        var keys = context.RequestServices.GetRequiredService<TokenSigningKeys>();
        if (await keys.TryRotateAsync(context.RequestAborted) is not { } fresh)
            return ProblemResults.Write(Problem.Conflict(
                $"The key ring holds {TokenSigningKeys.MaxKeys} keys; retire a previous key before rotating again."));
        return JsonResults.Created($"/api/v1/signing-keys/{fresh.Kid}", View(fresh, current: true), SsoJsonContext.Default.SigningKeyView);
    }

    private static async Task<IResult> RetireAsync(HttpContext context)
    {
        var kid = context.RouteString("kid");
        return await context.RequestServices.GetRequiredService<TokenSigningKeys>().RetireAsync(kid, context.RequestAborted) switch
        {
            TokenSigningKeys.RetireOutcome.Retired => Results.NoContent(),
            TokenSigningKeys.RetireOutcome.Current => ProblemResults.Write(new Problem(409, "current-key",
                "The current signing key cannot be retired", $"'{kid}' signs every new token; rotate first, then retire it.")),
            _ => ProblemResults.Write(Problem.NotFound("signing key", kid)),
        };
    }

    private static SigningKeyView View(StoredSigningKey key, bool current) =>
        new(key.Kid, key.CreatedAt, current ? "current" : "previous");
}

public sealed record SigningKeyView(string Kid, DateTimeOffset CreatedAt, string Status);

public sealed record SigningKeyList(SigningKeyView[] Data);
