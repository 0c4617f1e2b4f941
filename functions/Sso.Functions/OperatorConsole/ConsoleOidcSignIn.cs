namespace Sso.Functions.OperatorConsole;

/// <summary>Console sign-in through the SaaS team's OpenID Connect provider (<see cref="ConsoleOidcOptions"/>).</summary>
public static class ConsoleOidcSignIn
{
    public const string StartPath = ConsoleLayout.Base + "/sign-in/oidc";
    public const string CallbackPath = ConsoleLayout.Base + "/sign-in/oidc/callback";
}
