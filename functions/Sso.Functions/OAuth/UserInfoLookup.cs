using System.Text.Json.Nodes;
using Sso.Functions.Storage;

namespace Sso.Functions.OAuth;

/// <summary>The claims <c>/oauth/userinfo</c> answers with, and the tenant they belong to (for the request log).</summary>
public sealed record UserInfoClaims(TenantId TenantId, JsonObject Claims);

/// <summary>A refused access token (RFC 6750 §3.1 <c>invalid_token</c>).</summary>
public sealed record UserInfoRefusal(string Description)
{
    public static UserInfoRefusal InvalidToken { get; } = new("The access token is not valid, has expired or was revoked.");
}

/// <summary>
/// The work of <c>/oauth/userinfo</c>: finds a live, unrevoked access token and assembles the
/// signed-in user's claims (DESIGN.md: sub, email, names, tenant, connection, groups, role, idp).
/// </summary>
public sealed class UserInfoLookup(AccessTokenStore accessTokens, TimeProvider clock)
{
    /// <param name="accessToken">The bearer token as presented.</param>
    public async Task<Result<UserInfoClaims, UserInfoRefusal>> LookupAsync(string accessToken, CancellationToken cancellationToken)
    {
        var token = await accessTokens.FindValidAsync(accessToken, clock.GetUtcNow(), cancellationToken);
        if (token is null) return UserInfoRefusal.InvalidToken;
        var user = token.User;
        return new UserInfoClaims(user.TenantId, new JsonObject
        {
            ["sub"] = user.Subject,
            ["email"] = user.Email,
            ["email_verified"] = user.EmailVerified,
            ["given_name"] = user.GivenName,
            ["family_name"] = user.FamilyName,
            ["name"] = user.Name,
            ["tenant"] = user.TenantId.Value,
            ["connection"] = user.ConnectionId.Value,
            ["groups"] = new JsonArray(user.Groups.Select(g => (JsonNode?)JsonValue.Create(g)).ToArray()),
            ["role"] = user.Role,
            ["idp"] = user.IdpAttributes.DeepClone(),
        });
    }
}
