using Azure.Data.Tables;

namespace Sso.Functions.OperatorConsole;

/// <summary>
/// An operator's sign-in at the team's OpenID Connect provider, between the redirect there and the
/// callback: the row is keyed by the hash of <c>state</c> and holds the nonce and PKCE verifier; it
/// is used once and is good for <see cref="Lifetime"/>.
/// </summary>
public sealed record ConsolePendingSignIn(string StateHash, string Nonce, string CodeVerifier, string ReturnPath, DateTimeOffset CreatedAt)
{
    public const string Row = "oidc";
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    public TableEntity ToEntity() => new(StateHash, Row)
    {
        ["Nonce"] = Nonce,
        ["CodeVerifier"] = CodeVerifier,
        ["ReturnPath"] = ReturnPath,
        ["CreatedAt"] = CreatedAt,
    };

    public static ConsolePendingSignIn FromEntity(TableEntity entity) => new(
        entity.PartitionKey, entity.GetString("Nonce"), entity.GetString("CodeVerifier"), entity.GetString("ReturnPath"),
        entity.GetDateTimeOffset("CreatedAt")!.Value);
}
