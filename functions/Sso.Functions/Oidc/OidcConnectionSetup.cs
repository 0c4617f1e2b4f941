using Sso.Functions.Storage;
using System.Text.Json.Nodes;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;

namespace Sso.Functions.Oidc;

/// <summary>
/// The OIDC side of <c>POST/PATCH/DELETE /api/v1/tenants/{tenantId}/connections</c>.
/// Placeholder: the OIDC connections feature replaces this file.
/// </summary>
public static class OidcConnectionSetup
{
    /// <summary>
    /// Validates <paramref name="body"/> (the whole POST body, <c>type</c> included) and returns the
    /// connection to store (new id, <see cref="ConnectionTypes.Oidc"/>, config without secrets:
    /// put the client secret in the secret store). The caller stores it and writes the 201.
    /// </summary>
    public static Task<Result<Connection, Problem>> CreateAsync(HttpContext context, TenantId tenantId, JsonObject body)
    {
        _ = context;
        _ = tenantId;
        _ = body;
        return Task.FromResult<Result<Connection, Problem>>(
            Problem.Validation("OIDC connections are not available in this build."));
    }

    /// <summary>Applies a PATCH body (a JSON object of changed fields) to an OIDC connection; the caller stores the result.</summary>
    public static Task<Result<Connection, Problem>> UpdateAsync(HttpContext context, Connection before, JsonObject patch)
    {
        _ = context;
        _ = before;
        _ = patch;
        return Task.FromResult<Result<Connection, Problem>>(
            Problem.Validation("OIDC connections are not available in this build."));
    }

    /// <summary>Called after an OIDC connection row was deleted: remove its secrets.</summary>
    public static Task DeletedAsync(HttpContext context, Connection connection) => Task.CompletedTask;
}
