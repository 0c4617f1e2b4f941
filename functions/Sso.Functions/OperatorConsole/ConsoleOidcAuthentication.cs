using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Functions.Oidc;
using Sso.Protocols.Oidc;

namespace Sso.Functions.OperatorConsole;

/// <summary>
/// The work of the console's OpenID Connect sign-in (<see cref="ConsoleOidcSignIn"/> writes the
/// HTTP): the start keeps a pending sign-in with a fresh state, nonce and PKCE verifier; the
/// completion checks the IdP's answer against it and says which operator signed in, or why not.
/// </summary>
public sealed class ConsoleOidcAuthentication(ConsoleOidcOptions oidc, OidcProviderCache providers, OidcSignInVerifier verifier,
    ConsoleSessionStore sessions, SsoOptions options, TimeProvider clock)
{
    public ConsoleOidcOptions Options => oidc;

    public string RedirectUri => options.Url(ConsoleOidcSignIn.CallbackPath);

    /// <param name="returnPath">Where the operator goes once signed in (already checked to be a console path).</param>
    public async Task<Result<ConsoleOidcStart, ConsoleSignInRefusal>> StartAsync(string returnPath, CancellationToken cancellationToken)
    {
        var metadata = await providers.GetMetadataAsync(oidc.Issuer!, cancellationToken);
        if (!metadata.IsSuccess)
            return new ConsoleSignInRefusal(503, $"{oidc.DisplayName} could not be reached ({metadata.Error.Kind}); try again, or sign in with an admin key.",
                "identity provider unreachable: " + metadata.Error.Kind);

        var state = Base64Url.Encode(RandomNumberGenerator.GetBytes(32));
        var nonce = Base64Url.Encode(RandomNumberGenerator.GetBytes(32));
        var codeVerifier = Base64Url.Encode(RandomNumberGenerator.GetBytes(32));
        var now = clock.GetUtcNow();
        await sessions.CreatePendingAsync(new ConsolePendingSignIn(HashOf(state), nonce, codeVerifier, returnPath, now), cancellationToken);
        var request = new OidcAuthorizationRequest(metadata.Value.AuthorizationEndpoint, oidc.ClientId!, RedirectUri, oidc.Scopes,
            state, nonce, codeVerifier);
        return new ConsoleOidcStart(request.ToUri().AbsoluteUri, state, now + ConsolePendingSignIn.Lifetime);
    }

    public async Task<Result<ConsoleOidcOperator, ConsoleSignInRefusal>> CompleteAsync(ConsoleOidcCallback callback,
        CancellationToken cancellationToken)
    {
        var state = callback.State;
        // The state must be the one this browser was sent off with: another browser's callback (a
        // login CSRF) carries a state whose cookie this browser does not have.
        if (callback.BrowserState is not { Length: 43 } expected || state.Length != 43
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(state)))
            return new ConsoleSignInRefusal(400, "This sign-in did not start in this browser, or took too long. Start again.", "state mismatch");
        var now = clock.GetUtcNow();
        if (await sessions.TakePendingAsync(HashOf(state), cancellationToken) is not { } pending
            || now - pending.CreatedAt > ConsolePendingSignIn.Lifetime)
            return new ConsoleSignInRefusal(400, "This sign-in was already used or has expired. Start again.", "state unknown or expired");

        var metadata = await providers.GetMetadataAsync(oidc.Issuer!, cancellationToken);
        if (!metadata.IsSuccess)
            return new ConsoleSignInRefusal(503, $"{oidc.DisplayName} could not be reached ({metadata.Error.Kind}).", "discovery " + metadata.Error.Kind);
        var provider = metadata.Value;
        if (OidcSignInVerifier.CheckIssParameter(callback.Iss, provider) is { } mixUp)
            return new ConsoleSignInRefusal(400, "The answer did not come from the configured identity provider.", mixUp.Kind.ToString());
        if (callback.Error is { Length: > 0 } idpError)
            return new ConsoleSignInRefusal(403, $"{oidc.DisplayName} did not sign you in ({Printable(idpError)}).", "idp error");
        if (callback.Code is not { Length: > 0 and <= 4096 } code)
            return new ConsoleSignInRefusal(400, "The identity provider's answer has no authorization code.", "no code");

        var redeemed = await verifier.ExchangeCodeAsync(provider, oidc.ClientId!, oidc.ClientSecret ?? "", RedirectUri, code,
            pending.CodeVerifier, cancellationToken);
        if (!redeemed.IsSuccess)
            return new ConsoleSignInRefusal(502, $"{oidc.DisplayName} did not redeem the sign-in ({redeemed.Error.Kind}).", redeemed.Error.Kind.ToString());
        var expectations = new IdTokenExpectations(provider.Issuer, oidc.ClientId!, pending.Nonce, TimeSpan.FromSeconds(OidcConnectionSetup.DefaultClockSkewSeconds));
        var validated = await OidcSignInVerifier.ValidateWithKeyRefreshAsync(providers, provider, redeemed.Value.IdToken, expectations, now,
            cancellationToken);
        if (!validated.IsSuccess)
            return new ConsoleSignInRefusal(403, $"The ID token from {oidc.DisplayName} was not accepted ({validated.Error.Kind}).", validated.Error.Kind.ToString());
        var completed = await verifier.AddUserInfoAsync(provider, validated.Value, redeemed.Value.AccessToken, cancellationToken);
        if (!completed.IsSuccess)
            return new ConsoleSignInRefusal(502, $"{oidc.DisplayName} did not answer for your profile ({completed.Error.Kind}).", completed.Error.Kind.ToString());
        var token = completed.Value;
        if (OidcEmailVerification.Check(token, allowUnverifiedEmail: false) is not null || token.Email is not { Length: > 0 } email)
            return new ConsoleSignInRefusal(403, "Your identity provider did not assert a verified email address.", "email not verified");
        if (!ConsoleOidcSignIn.IsAllowed(oidc, email, token.Claims))
            return new ConsoleSignInRefusal(403, $"{email} is not an operator of this console. Ask for your address or group to be added to Console:Oidc.",
                "not an allowed operator");
        return new ConsoleOidcOperator(email, token.Subject, pending.ReturnPath);
    }

    public static string HashOf(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    private static string Printable(string text) => new(text.Take(100).Where(c => c is >= ' ' and <= '~').ToArray());
}

/// <summary>A started console sign-in: the IdP URL, and the state this browser keeps (in a cookie) until <paramref name="ExpiresAt"/>.</summary>
public sealed record ConsoleOidcStart(string Url, string State, DateTimeOffset ExpiresAt);

/// <summary>The IdP's answer: <paramref name="BrowserState"/> is the state this browser kept; the rest is the callback's query.</summary>
public sealed record ConsoleOidcCallback(string? BrowserState, string State, IReadOnlyList<string> Iss, string Error, string Code);

/// <summary>An allowed operator, with the console path to go back to.</summary>
public sealed record ConsoleOidcOperator(string Email, string Subject, string ReturnPath);

/// <summary>A refused console sign-in: the sign-in page's status and message, and the outcome for the log.</summary>
public sealed record ConsoleSignInRefusal(int Status, string Message, string Outcome);
