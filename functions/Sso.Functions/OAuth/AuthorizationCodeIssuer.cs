using Sso.Functions.Storage;
using System.Text.Json.Nodes;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.Tenants;
using Sso.Protocols.OAuth;

namespace Sso.Functions.OAuth;

/// <summary>
/// Where every sign-in ends: the SAML ACS and the OIDC callback hand over a verified identity
/// (or a refusal), and this applies the tenant's sign-in policy, issues the authorization code,
/// records the <c>sso.login</c> event and says how the browser goes back to the client
/// (<see cref="SignInCompletion"/>). It never sees the HTTP request.
/// </summary>
public sealed partial class AuthorizationCodeIssuer(
    TenantStore tenants,
    SignInDirectory directory,
    EmailDomainGuard domainGuard,
    AuthorizationCodeStore codes,
    SignInEvents events,
    SignInSessionStore sessions,
    SsoOptions options,
    Audit.AuditLog audit,
    TimeProvider clock,
    ILogger<AuthorizationCodeIssuer> logger)
{
    /// <summary>What the tenant's policy decided: a refusal code, or the tenant and the grant.</summary>
    public sealed record SignInDecision(string? Refusal, Tenant? Tenant = null, SignInGrant? Grant = null, bool EmailDomainVerified = false);

    public async Task<SignInCompletion> CompleteAsync(PendingSignIn pending, Connection connection,
        VerifiedIdentity identity, CancellationToken cancellationToken)
    {
        var decision = await DecideAsync(pending, connection, identity, cancellationToken);
        return await IssueAsync(pending, connection, identity, decision, cancellationToken);
    }

    /// <summary>
    /// The reads of the sign-in policy, side by side: the tenant (cached), the email domain's claim
    /// and the directory user. Writes nothing, so a caller may run it beside the writes that make the
    /// sign-in single use and pass the decision to <see cref="IssueAsync"/> once those succeeded.
    /// </summary>
    public async Task<SignInDecision> DecideAsync(PendingSignIn pending, Connection connection,
        VerifiedIdentity identity, CancellationToken cancellationToken)
    {
        if (connection.Id != pending.ConnectionId || connection.TenantId != pending.TenantId)
            return new SignInDecision(SignInRefusals.ConnectionUnavailable);
        if (!connection.Enabled) return new SignInDecision(SignInRefusals.ConnectionDisabled);
        var directoryUser = identity.Email is { Length: > 0 } asserted
            ? directory.FindUserByEmailAsync(pending.TenantId, asserted, cancellationToken)
            : Task.FromResult<DirectoryUserView?>(null);
        var tenant = await tenants.FindCachedAsync(pending.TenantId, cancellationToken);
        // The guard and email_verified both need the domain's claim row: read once (cached like the tenant, *Caching*).
        var claim = tenant is not null && EmailDomainGuard.EmailDomain(identity.Email) is { } emailDomain
            ? tenants.FindClaimCachedAsync(emailDomain, cancellationToken)
            : Task.FromResult<DomainClaim?>(null);
        var domainRefusal = tenant is null ? Task.FromResult<string?>(null) : domainGuard.CheckAsync(tenant, connection, identity.Email, claim, cancellationToken);
        var domainVerified = tenant is null ? Task.FromResult(false) : IsVerifiedDomainOfAsync(tenant, identity.Email, claim);
        await Task.WhenAll(directoryUser, domainRefusal, domainVerified);
        if (tenant is null) return new SignInDecision(SignInRefusals.ConnectionUnavailable);
        if (domainRefusal.Result is { } refusal) return new SignInDecision(refusal);
        var decision = SignInPolicy.Decide(tenant.Settings, identity, directoryUser.Result);
        return decision.IsSuccess ? new SignInDecision(null, tenant, decision.Value, domainVerified.Result) : new SignInDecision(decision.Error);
    }

    /// <summary>
    /// Our id_token's <c>email_verified</c>: true only for an address of a domain the tenant proved
    /// by DNS. An IdP's word covers who signed in, not who owns the domain; the SaaS app may link
    /// accounts by email only where the domain is proven.
    /// </summary>
    private static async Task<bool> IsVerifiedDomainOfAsync(Tenant tenant, string? email, Task<DomainClaim?> claimOfDomain)
    {
        if (EmailDomainGuard.EmailDomain(email) is not { } domain || !tenant.Domains.Contains(domain, StringComparer.Ordinal)) return false;
        return await claimOfDomain is { IsVerified: true } claim && claim.TenantId == tenant.Id;
    }

    /// <summary>Issues the code for a decided sign-in (or sends the refusal back): the session and the code are written side by side.</summary>
    public async Task<SignInCompletion> IssueAsync(PendingSignIn pending, Connection connection,
        VerifiedIdentity identity, SignInDecision decided, CancellationToken cancellationToken)
    {
        if (Prepare(pending, connection, identity, decided) is not { } issued)
            return await FailAsync(pending, OAuthErrorCodes.AccessDenied, decided.Refusal ?? SignInRefusals.ConnectionUnavailable,
                cancellationToken, identity: identity);
        var session = issued.Session is { } samlSession
            ? sessions.RecordAsync(issued.Code.User.TenantId, samlSession, cancellationToken)
            : Task.CompletedTask;
        var created = codes.CreateAsync(issued.Code, issued.Login, cancellationToken);
        await Task.WhenAll(session, created);
        return await SucceededAsync(pending, connection, identity, created.Result);
    }

    /// <summary>
    /// What an admitted sign-in writes, not yet written: the code (with the signed-in user), the
    /// SAML session for Single Logout and the <c>sso.login</c> event. Null when the decision refused.
    /// </summary>
    public IssuedSignIn? Prepare(PendingSignIn pending, Connection connection, VerifiedIdentity identity, SignInDecision decided)
    {
        if (decided is not { Refusal: null, Tenant: { } tenant, Grant: { } grant }) return null;
        var now = clock.GetUtcNow();
        var user = new SignedInUser
        {
            Subject = SubjectIdentifier.For(tenant.Id, identity.Email!),
            TenantId = tenant.Id,
            ConnectionId = connection.Id,
            Email = identity.Email!.Trim(),
            EmailVerified = decided.EmailDomainVerified,
            GivenName = identity.GivenName,
            FamilyName = identity.FamilyName,
            Name = identity.Name ?? JoinName(identity.GivenName, identity.FamilyName),
            Role = grant.Role,
            Groups = grant.Groups,
            DirectoryUserId = grant.DirectoryUserId,
            DirectoryId = grant.DirectoryId,
            AuthTime = identity.AuthenticatedAt is { } at && at <= now ? at : now,
            IdpAttributes = identity.RawAttributes,
            SessionId = Ids.New("ses_"),
        };
        var session = identity.SamlSession is { } saml
            ? new SamlSession
            {
                SessionId = user.SessionId,
                ConnectionId = connection.Id,
                Subject = user.Subject,
                DirectoryUserId = user.DirectoryUserId,
                NameId = saml.NameId,
                NameIdFormat = saml.NameIdFormat,
                SessionIndex = saml.SessionIndex,
                CreatedAt = now,
                ExpiresAt = now + SamlSession.Lifetime,
            }
            : null;
        var login = events.NewLogin(tenant.Id, connection.Id, new JsonObject
        {
            ["outcome"] = "success",
            ["clientId"] = pending.ClientId.Value,
            ["sub"] = user.Subject,
            ["directoryUserId"] = user.DirectoryUserId,
            ["role"] = user.Role,
        });
        var code = new AuthorizationCode
        {
            ClientId = pending.ClientId,
            RedirectUri = pending.RedirectUri,
            CodeChallenge = pending.CodeChallenge,
            CodeChallengeMethod = pending.CodeChallengeMethod,
            Nonce = pending.Nonce,
            Scope = pending.Scope,
            User = user,
            IssuedAt = now,
            ExpiresAt = now + AuthorizationCode.Lifetime,
        };
        return new IssuedSignIn(code, session, login);
    }

    /// <summary>A sign-in whose code is stored: audited, and the browser sent back to the client with the code.</summary>
    public async Task<SignInCompletion> SucceededAsync(PendingSignIn pending, Connection connection, VerifiedIdentity identity, string code)
    {
        await audit.RecordSignInAsync(connection.TenantId, connection.Id, pending.ClientId, "success", null, emailDomain: EmailDomainOf(identity));
        LogSignedIn(logger, connection.TenantId.Value, connection.Id.Value, pending.ClientId.Value);
        return new SignInCompletion.CodeIssued(pending.TenantId, pending.RedirectUri, pending.ResponseMode, code, pending.State, options.Issuer);
    }

    /// <summary>
    /// Sends the browser back to the (already validated) redirect URI with an OAuth error and the
    /// client's state, and records the failed <c>sso.login</c>. <paramref name="errorDescriptionCode"/>
    /// is one of <see cref="SignInRefusals"/> (or a short, secret-free sentence). <paramref name="identity"/>:
    /// the verified identity when the refusal came after it (its email's domain goes into the audit row).
    /// </summary>
    public async Task<SignInCompletion> FailAsync(PendingSignIn pending, string error, string errorDescriptionCode,
        CancellationToken cancellationToken, string? failureKind = null, VerifiedIdentity? identity = null)
    {
        await events.RecordAsync(pending.ClientId, events.NewLogin(pending.TenantId, pending.ConnectionId, new JsonObject
        {
            ["outcome"] = "failure",
            ["clientId"] = pending.ClientId.Value,
            ["error"] = error,
            ["reason"] = errorDescriptionCode,
            ["failureKind"] = failureKind,
        }), cancellationToken);
        await audit.RecordSignInAsync(pending.TenantId, pending.ConnectionId, pending.ClientId, "failure", errorDescriptionCode, failureKind,
            EmailDomainOf(identity));
        LogRefused(logger, pending.TenantId.Value, pending.ConnectionId.Value, errorDescriptionCode);
        return ErrorRedirect(pending, error, errorDescriptionCode);
    }

    /// <summary>The error redirect alone, for failures before a sign-in exists (no event).</summary>
    public SignInCompletion.Refused ErrorRedirect(PendingSignIn pending, string error, string errorDescription) =>
        new(pending.TenantId, pending.RedirectUri, pending.ResponseMode, error, errorDescription, pending.State, options.Issuer);

    /// <summary>The audit row's email domain: the asserted email's, once the identity is known.</summary>
    public static string? EmailDomainOf(VerifiedIdentity? identity) => identity is null ? null : DomainName.OfEmail(identity.Email);

    private static string? JoinName(string? given, string? family) =>
        string.Join(" ", new[] { given, family }.Where(s => !string.IsNullOrWhiteSpace(s))) is { Length: > 0 } joined ? joined : null;

    [LoggerMessage(Level = LogLevel.Information, Message = "Sign-in completed (tenant {TenantId}, connection {ConnectionId}, client {ClientId})")]
    private static partial void LogSignedIn(ILogger logger, string tenantId, string connectionId, string clientId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sign-in refused: {Outcome} (tenant {TenantId}, connection {ConnectionId})")]
    private static partial void LogRefused(ILogger logger, string tenantId, string connectionId, string outcome);
}

/// <summary>What an admitted sign-in writes: its code, its SAML session (SAML only) and its <c>sso.login</c> event.</summary>
public sealed record IssuedSignIn(AuthorizationCode Code, SamlSession? Session, Outbox.EventRecord Login);
