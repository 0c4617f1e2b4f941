namespace Sso.Protocols.OAuth;

/// <summary>
/// What the client asked about how fresh the user's authentication must be (OIDC Core §3.1.2.1):
/// <c>prompt=login</c> (sign in again now) and <c>max_age</c> (signed in at most that many seconds ago).
/// </summary>
public sealed record StepUpDemand(bool ForceLogin, int? MaxAgeSeconds)
{
    public static readonly StepUpDemand None = new(false, null);

    public bool IsRequested => ForceLogin || MaxAgeSeconds is not null;
}

public enum StepUpFailureKind
{
    /// <summary>max_age was sent but the IdP did not say when the user authenticated (OIDC <c>auth_time</c>).</summary>
    AuthTimeMissing,

    /// <summary>The IdP reused an authentication older than the request (prompt=login) or than max_age.</summary>
    AuthenticationTooOld,
}

/// <summary>Why an IdP's answer does not meet the client's step-up demand; the message names instants, never the user.</summary>
public sealed record StepUpFailure(StepUpFailureKind Kind, string Message)
{
    public override string ToString() => $"{Kind}: {Message}";
}

/// <summary>
/// Checks the instant the IdP says the user authenticated (OIDC <c>auth_time</c>, SAML
/// <c>AuthnStatement/@AuthnInstant</c>) against the client's <see cref="StepUpDemand"/>, so an
/// IdP that ignored <c>prompt=login</c> / <c>ForceAuthn</c> or <c>max_age</c> and answered from an
/// old session does not pass as a fresh sign-in.
/// </summary>
public static class AuthenticationFreshness
{
    /// <param name="requestedAt">When the client's authorization request reached us.</param>
    public static StepUpFailure? Check(StepUpDemand demand, DateTimeOffset? authenticatedAt, DateTimeOffset requestedAt,
        DateTimeOffset now, TimeSpan clockSkew)
    {
        if (!demand.IsRequested) return null;
        if (authenticatedAt is not { } at)
        {
            // prompt=login alone does not oblige an OIDC IdP to send auth_time; max_age does.
            return demand.MaxAgeSeconds is null
                ? null
                : new StepUpFailure(StepUpFailureKind.AuthTimeMissing,
                    "max_age was requested but the IdP's answer does not say when the user authenticated (auth_time).");
        }
        if (demand.ForceLogin && at < requestedAt - clockSkew)
            return new StepUpFailure(StepUpFailureKind.AuthenticationTooOld,
                $"A new sign-in was requested at {Format(requestedAt)} but the IdP answered with an authentication from {Format(at)} " +
                $"(allowed skew {clockSkew.TotalSeconds:0} s): it did not honour prompt=login / ForceAuthn.");
        if (demand.MaxAgeSeconds is { } maxAge && now - at > TimeSpan.FromSeconds(maxAge) + clockSkew)
            return new StepUpFailure(StepUpFailureKind.AuthenticationTooOld,
                $"The user authenticated at {Format(at)}, more than max_age={maxAge} s before {Format(now)} " +
                $"(allowed skew {clockSkew.TotalSeconds:0} s).");
        return null;
    }

    private static string Format(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
}
