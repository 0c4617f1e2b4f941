using System.Text.Json.Nodes;
using Sso.Functions.Audit;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;
using Sso.Protocols.OAuth;
using Sso.Protocols.Saml;

namespace Sso.Functions.Saml;

/// <summary>What the IdP posted to the ACS (HTTP-POST binding); RelayState is null when empty or absent.</summary>
public sealed record SamlPost(string? SamlResponse, string? RelayState);

/// <summary>
/// Completes a SAML connection's sign-in at its Assertion Consumer Service. It trusts nothing but
/// the connection's configuration and the pending sign-in its RelayState names; it needs no
/// cookie, since a cross-site POST from the IdP would not carry one.
/// </summary>
public sealed partial class SamlSignInCompletion(
    PendingSignInStore pendingStore,
    ClientStore clients,
    SamlServiceProviderKeys spKeys,
    AssertionReplayStore replays,
    ConnectionSignInStore signIns,
    AuthorizationCodeIssuer issuer,
    AuditLog audit,
    RefusalCounter refusals,
    SsoOptions options,
    TimeProvider clock,
    ILoggerFactory loggers)
{
    private readonly ILogger logger = loggers.CreateLogger("Sso.Functions.Saml");

    /// <summary>The page for a post that cannot be answered with a redirect: no pending sign-in of ours, or no usable form.</summary>
    public static SignInCompletion.Page NoRedirectPage(TenantId? tenantId, string message) => new(tenantId, 400, "Sign-in failed", message);

    /// <param name="connection">A SAML connection, found by the ACS URL's id.</param>
    public async Task<SignInCompletion> CompleteAsync(Connection connection, SamlPost post, CancellationToken cancellationToken)
    {
        var (samlResponse, relayState) = post;
        var pendingResult = await ResolvePendingSignInAsync(connection, relayState, cancellationToken);
        if (!pendingResult.IsSuccess)
        {
            LogRejected(logger, connection.Id.Value, pendingResult.Error.Kind);
            if (pendingResult.Error.Expired is null)
                await RecordAnonymousRefusalAsync(connection, samlResponse, pendingResult.Error.Kind, cancellationToken);
            return pendingResult.Error.Expired is { } expired
                ? await issuer.FailAsync(expired, OAuthErrorCodes.AccessDenied, SignInRefusals.SignInExpired, cancellationToken)
                : NoRedirectPage(connection.TenantId, pendingResult.Error.Message);
        }
        var (pending, stored) = pendingResult.Value;

        var now = clock.GetUtcNow();
        // Every key of the ring decrypts: an IdP may still encrypt to the previous certificate after a rotation.
        var spCertificates = await spKeys.GetCertificatesAsync(connection.Id, cancellationToken);
        var expectedInResponseTo = pending.IdpString(SamlSignInStarter.AuthnRequestIdKey);
        var clockSkew = TimeSpan.FromSeconds(connection.Config["clockSkewSeconds"] is JsonValue skew && skew.TryGetValue<int>(out var seconds)
            ? seconds
            : SamlConnectionSetup.DefaultClockSkewSeconds);
        var validated = SamlResponseValidator.Validate(samlResponse, new SamlValidationParameters
        {
            IdpCertificates = SamlConnectionSetup.SharedIdpCertificates(connection),
            IdpEntityId = connection.ConfigString("idpEntityId")!,
            SpEntityId = SamlServiceProviderUrls.EntityId(options, connection.Id),
            AcsUrl = SamlServiceProviderUrls.AcsUrl(options, connection.Id),
            ExpectedInResponseTo = expectedInResponseTo,
            AllowIdpInitiated = expectedInResponseTo is null,
            AllowSha1 = connection.ConfigBool("allowSha1"),
            ClockSkew = clockSkew,
            Now = now,
            DecryptionCertificates = spCertificates,
            AllowedEncryptionAlgorithms = SamlConnectionSetup.EncryptionAlgorithms(connection),
        });
        if (!validated.IsSuccess)
        {
            LogRejected(logger, connection.Id.Value, validated.Error.Kind.ToString());
            // A rejected answer uses the pending sign-in up as well: the next attempt starts again.
            if (stored) await pendingStore.RemoveAsync(pending, cancellationToken);
            // Unsolicited and not even signed by the IdP: anyone could have posted it.
            else if (!IsSignedByIdp(samlResponse, connection, spCertificates))
            {
                refusals.Count(connection.TenantId.Value, "acs:" + validated.Error.Kind, connection.Id.Value);
                return issuer.ErrorRedirect(pending, OAuthErrorCodes.AccessDenied, SignInRefusals.IdpResponseRejected);
            }
            return await issuer.FailAsync(pending, OAuthErrorCodes.AccessDenied, SignInRefusals.IdpResponseRejected,
                cancellationToken, validated.Error.Kind.ToString());
        }
        var assertion = validated.Value;
        // Core §2.7.2 AuthnInstant against the client's prompt=login / max_age (sent on as ForceAuthn).
        if (AuthenticationFreshness.Check(pending.StepUp, assertion.AuthnInstant, pending.CreatedAt, now, clockSkew) is { } stale)
        {
            LogRejected(logger, connection.Id.Value, stale.Kind.ToString());
            if (stored) await pendingStore.RemoveAsync(pending, cancellationToken);
            return await issuer.FailAsync(pending, OAuthErrorCodes.AccessDenied, SignInRefusals.StaleAuthentication,
                cancellationToken, stale.Kind.ToString());
        }

        // The policy's reads (which write nothing) first; then everything this sign-in writes in one
        // transaction in one of the connection's partitions: the pending sign-in removed under the ETag it was
        // read with (of two posts with one RelayState one wins), the assertion ID recorded (Profiles
        // §4.1.4.5: each assertion is used once; kept until it would be refused as expired) and, when
        // the policy admits the user, the session, the code and its event. If either single-use write
        // loses, nothing is written and no code exists.
        var identity = ToIdentity(connection, assertion);
        // A pending sign-in stored before this layout is removed on its own first; an unsolicited
        // response is also checked against assertion IDs recorded before it (both only until those rows expire).
        var legacyTaken = stored && !pending.InConnectionPartition ? pendingStore.RemoveAsync(pending, cancellationToken) : Task.FromResult(true);
        var legacyReplay = !stored
            ? replays.WasRecordedAsync(connection.Id, assertion.Id, cancellationToken)
            : Task.FromResult(false);
        var decided = issuer.DecideAsync(pending, connection, identity, cancellationToken);
        await Task.WhenAll(legacyTaken, legacyReplay, decided);
        var issued = issuer.Prepare(pending, connection, identity, decided.Result);
        var outcome = !legacyTaken.Result ? new SignInCommitOutcome.PendingTaken()
            : legacyReplay.Result ? new SignInCommitOutcome.AssertionReplayed()
            : await signIns.CommitAsync(new SignInCommit(connection.Id,
                pending.InConnectionPartition ? pending : null, assertion.Id, assertion.ReplayCacheUntil,
                stored ? HandleOwner(pending.Handle) : null, issued), cancellationToken);
        switch (outcome)
        {
            case SignInCommitOutcome.PendingTaken:
                LogRejected(logger, connection.Id.Value, "RelayStateUnknown");
                await audit.RecordSignInAsync(connection.TenantId, connection.Id, null,
                    "failure", SignInRefusals.IdpResponseRejected, "RelayStateUnknown", AuthorizationCodeIssuer.EmailDomainOf(identity));
                return NoRedirectPage(pending.TenantId, AlreadyCompleted);
            case SignInCommitOutcome.AssertionReplayed:
                LogRejected(logger, connection.Id.Value, nameof(SamlFailureKind.Replayed));
                // The transaction left the pending sign-in in place; a refused answer uses it up all the same.
                if (stored && pending.InConnectionPartition) await pendingStore.RemoveAsync(pending, cancellationToken);
                return await issuer.FailAsync(pending, OAuthErrorCodes.AccessDenied, SignInRefusals.IdpResponseRejected,
                    cancellationToken, nameof(SamlFailureKind.Replayed), identity);
            case SignInCommitOutcome.Committed { Code: { } code }:
                return await issuer.SucceededAsync(pending, connection, identity, code);
            default:
                return await issuer.FailAsync(pending, OAuthErrorCodes.AccessDenied,
                    decided.Result.Refusal ?? SignInRefusals.ConnectionUnavailable, cancellationToken, identity: identity);
        }
    }

    /// <summary>
    /// A refusal with no pending sign-in of ours behind it (issue 18.10): audited only when the IdP
    /// really signed the response, so the tenant's admin sees a misconfigured IdP; anything else
    /// could come from anyone and is counted, so a script cannot flush the sign-in attempts list.
    /// </summary>
    private async Task RecordAnonymousRefusalAsync(Connection connection, string? samlResponse, string kind, CancellationToken cancellationToken)
    {
        // Junk that is not even a SAML document costs no key read.
        var signed = SamlResponseReader.Read(samlResponse).IsSuccess && IsSignedByIdp(samlResponse, connection,
            await spKeys.GetCertificatesAsync(connection.Id, cancellationToken));
        if (signed)
            await audit.RecordSignInAsync(connection.TenantId, connection.Id, null, "failure", SignInRefusals.IdpResponseRejected, kind);
        else
            refusals.Count(connection.TenantId.Value, "acs:" + kind, connection.Id.Value);
    }

    private static bool IsSignedByIdp(string? samlResponse, Connection connection,
        IReadOnlyList<System.Security.Cryptography.X509Certificates.X509Certificate2> spCertificates)
    {
        var unverifiedXml = SamlResponseReader.Read(samlResponse);
        return unverifiedXml.IsSuccess && SamlSignatureVerifier.Verify(unverifiedXml.Value, new SamlTrust
        {
            IdpCertificates = SamlConnectionSetup.IdpCertificates(connection),
            AllowSha1 = connection.ConfigBool("allowSha1"),
            DecryptionCertificates = spCertificates,
            AllowedEncryptionAlgorithms = SamlConnectionSetup.EncryptionAlgorithms(connection),
        }).IsSuccess;
    }

    private const string AlreadyCompleted = "This sign-in was already completed or is unknown. Start the sign-in again from the application.";

    /// <summary>Who recorded an assertion: a hash of the pending sign-in's handle, never the handle itself.</summary>
    private static string HandleOwner(string handle) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(handle)));

    /// <param name="Expired">A pending sign-in that timed out: its redirect URI is still trustworthy.</param>
    private sealed record AcsRefusal(string Kind, string Message, PendingSignIn? Expired = null);

    /// <summary>
    /// The pending sign-in the RelayState names, consumed; or, for an unsolicited response on a
    /// connection that allows IdP-initiated sign-in, one made from its default client and
    /// redirect URI. Any other case has no redirect URI that can be trusted.
    /// </summary>
    private async Task<Result<(PendingSignIn Pending, bool Stored), AcsRefusal>> ResolvePendingSignInAsync(
        Connection connection, string? relayState, CancellationToken cancellationToken)
    {
        if (PendingSignIn.TryReadConnection(relayState, out var relayConnection))
        {
            // The RelayState must belong to a request that this connection started.
            if (relayConnection != connection.Id)
                return new AcsRefusal("RelayStateOfAnotherConnection",
                    "The RelayState belongs to another SAML connection. Start the sign-in again from the application.");
            // Read, not yet removed: the removal is one of the single-use writes after the checks.
            var read = await pendingStore.FindAsync(relayState!, cancellationToken);
            if (read is not { } found || found.PendingSignIn.ConnectionId != connection.Id || found.PendingSignIn.TenantId != connection.TenantId)
                return new AcsRefusal("RelayStateUnknown", AlreadyCompleted);
            if (found.Expired)
            {
                // Used up even so; only the request that removes it sends the browser back.
                return await pendingStore.RemoveAsync(found.PendingSignIn, cancellationToken)
                    ? new AcsRefusal("SignInExpired", "The sign-in took too long.", found.PendingSignIn)
                    : new AcsRefusal("RelayStateUnknown", AlreadyCompleted);
            }
            return (found.PendingSignIn, true);
        }

        if (connection.Config["idpInitiated"] is not JsonObject idpInitiated
            || idpInitiated["enabled"] is not JsonValue enabled || !enabled.TryGetValue<bool>(out var on) || !on)
            return new AcsRefusal("UnsolicitedResponse",
                "The IdP sent a sign-in that this service did not request (IdP-initiated), and this connection does not accept those. "
                + "Start the sign-in from the application.");
        var clientIdText = idpInitiated["clientId"]?.GetValue<string>();
        var redirectUri = idpInitiated["redirectUri"]?.GetValue<string>();
        if (!ClientId.TryParse(clientIdText, out var clientId)
            || await clients.FindCachedAsync(clientId, cancellationToken) is not { } client
            || !client.HasRedirectUri(redirectUri))
            return new AcsRefusal("IdpInitiatedMisconfigured",
                "IdP-initiated sign-in is enabled, but its client or redirect URI is no longer registered.");
        var now = clock.GetUtcNow();
        return (new PendingSignIn
        {
            Handle = PendingSignIn.NewHandle(connection.Id),
            ClientId = client.Id,
            RedirectUri = redirectUri!,
            TenantId = connection.TenantId,
            ConnectionId = connection.Id,
            CreatedAt = now,
            ExpiresAt = now + PendingSignIn.Lifetime,
        }, false);
    }

    private static VerifiedIdentity ToIdentity(Connection connection, SamlAssertion assertion)
    {
        var mapping = connection.Config["attributeMapping"] as JsonObject;
        var profile = AttributeMapping.Map(assertion, new AttributeMappingOverrides
        {
            Email = MappingValue(mapping, "email"),
            FirstName = MappingValue(mapping, "firstName"),
            LastName = MappingValue(mapping, "lastName"),
            Groups = MappingValue(mapping, "groups"),
        });
        var raw = new JsonObject();
        foreach (var (name, values) in assertion.Attributes)
            raw[name] = new JsonArray(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
        return new VerifiedIdentity
        {
            Subject = assertion.NameId,
            Issuer = assertion.Issuer,
            Email = profile.Email,
            // The tenant configured this IdP as the authority for its users' addresses.
            EmailVerified = profile.Email is not null,
            GivenName = profile.FirstName,
            FamilyName = profile.LastName,
            Groups = profile.Groups,
            RawAttributes = raw,
            AuthenticatedAt = assertion.AuthnInstant,
            SamlSession = new SamlSessionReference(assertion.NameId, assertion.NameIdFormat, assertion.SessionIndex),
        };
    }

    private static string? MappingValue(JsonObject? mapping, string name) =>
        mapping?[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "SAML response rejected: {FailureKind} (connection {ConnectionId})")]
    private static partial void LogRejected(ILogger logger, string connectionId, string failureKind);
}
