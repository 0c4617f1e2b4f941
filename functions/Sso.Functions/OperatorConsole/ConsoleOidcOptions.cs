namespace Sso.Functions.OperatorConsole;

/// <summary>
/// The SaaS team's own OpenID Connect provider for console sign-in (<c>Console:Oidc:*</c>): an
/// operator gets in when their verified email is in <see cref="AllowedEmails"/> or a value of the
/// <see cref="GroupClaim"/> claim is in <see cref="AllowedGroups"/>.
/// </summary>
public sealed record ConsoleOidcOptions(
    string? Issuer,
    string? ClientId,
    string? ClientSecret,
    IReadOnlyList<string> AllowedEmails,
    string? GroupClaim,
    IReadOnlyList<string> AllowedGroups,
    string DisplayName,
    IReadOnlyList<string> Scopes)
{
    public bool IsConfigured => Issuer is { Length: > 0 } && ClientId is { Length: > 0 }
                                && (AllowedEmails.Count > 0 || (GroupClaim is { Length: > 0 } && AllowedGroups.Count > 0));

    public static ConsoleOidcOptions From(IConfiguration configuration) => new(
        Blank(configuration["Console:Oidc:Issuer"]),
        Blank(configuration["Console:Oidc:ClientId"]),
        Blank(configuration["Console:Oidc:ClientSecret"]),
        List(configuration["Console:Oidc:AllowedEmails"]).Select(e => e.ToLowerInvariant()).ToArray(),
        Blank(configuration["Console:Oidc:GroupClaim"]),
        List(configuration["Console:Oidc:AllowedGroups"]),
        Blank(configuration["Console:Oidc:DisplayName"]) ?? "your identity provider",
        Sso.Protocols.Oidc.OidcAuthorizationRequest.NormalizeScopes(List(configuration["Console:Oidc:Scopes"]) is { Length: > 0 } scopes
            ? scopes
            : null));

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string[] List(string? value) =>
        (value ?? "").Split([',', ';', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
