using System.Text.Json.Nodes;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;
using Sso.Protocols.OAuth;
using Sso.Protocols.Saml;

namespace Sso.Functions.Saml;

/// <summary>
/// The SP face of each SAML connection: its metadata and its Assertion Consumer Service. The
/// ACS trusts nothing but the connection's configuration and the pending sign-in its RelayState
/// names; it needs no cookie, since a cross-site POST from the IdP would not carry one.
/// </summary>
public static partial class SamlEndpoints
{
    /// <summary>A form with a base64 response of <see cref="SamlResponseReader.MaxDecodedBytes"/> plus RelayState.</summary>
    public const int MaxFormBytes = SamlResponseReader.MaxDecodedBytes * 4 / 3 + 8 * 1024;

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("SamlMetadata", "/saml/metadata/{connectionId}", ["GET"], MetadataAsync),
        new("SamlAcs", "/saml/acs/{connectionId}", ["POST"], AcsAsync),
    ];

    private static async Task<IResult> MetadataAsync(HttpContext context)
    {
        if (await FindConnectionAsync(context) is not { } connection)
            return OAuthResults.Page(404, "Unknown SAML connection", "There is no SAML connection with this id.");
        var options = context.RequestServices.GetRequiredService<SsoOptions>();
        // During a rollover every SP key is published for signing, current first, so an IdP trusts
        // AuthnRequests signed by either. Only the current key is published for encryption: an IdP
        // picks one encryption certificate, and it must pick the one that stays (samlify, for one,
        // fails outright on two); the ACS still decrypts with every key until it is retired.
        var certificates = await context.RequestServices.GetRequiredService<SamlServiceProviderKeys>()
            .GetCertificatesAsync(connection.Id, context.RequestAborted);
        var xml = SpMetadataWriter.Write(new SpMetadata
        {
            EntityId = SamlServiceProviderUrls.EntityId(options, connection.Id),
            AcsUrl = SamlServiceProviderUrls.AcsUrl(options, connection.Id),
            SigningCertificates = certificates,
            EncryptionCertificates = [certificates[0]],
            AuthnRequestsSigned = connection.ConfigBool("signAuthnRequests"),
            SingleLogoutUrl = SamlServiceProviderUrls.SloUrl(options, connection.Id),
        });
        return Results.Text(xml, "application/samlmetadata+xml", System.Text.Encoding.UTF8);
    }

    private static async Task<IResult> AcsAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var cancellationToken = context.RequestAborted;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.Saml");
        if (await FindConnectionAsync(context) is not { } connection)
            return NoRedirectPage("This sign-in was sent to a SAML connection that does not exist. Check the ACS URL configured at the IdP.");
        context.Items[RequestPipeline.TenantItem] = connection.TenantId.Value;

        if (!context.Request.HasFormContentType || context.Request.ContentLength > MaxFormBytes)
            return NoRedirectPage("The IdP must POST the SAMLResponse as a form (HTTP-POST binding).");
        var form = await ReadFormAsync(context);
        if (form is null) return NoRedirectPage("The SAMLResponse form is too large or malformed.");
        var (samlResponse, relayState) = form.Value;

        var issuer = services.GetRequiredService<AuthorizationCodeIssuer>();
        var pendingResult = await ResolvePendingSignInAsync(context, connection, relayState, cancellationToken);
        if (!pendingResult.IsSuccess)
        {
            LogRejected(logger, connection.Id.Value, pendingResult.Error.Kind);
            if (pendingResult.Error.Expired is null)
                await RecordAnonymousRefusalAsync(context, connection, samlResponse, pendingResult.Error.Kind, cancellationToken);
            return pendingResult.Error.Expired is { } expired
                ? await issuer.FailAsync(context, expired, OAuthErrorCodes.AccessDenied, SignInRefusals.SignInExpired, cancellationToken)
                : NoRedirectPage(pendingResult.Error.Message);
        }
        var (pending, stored) = pendingResult.Value;
        var pendingStore = services.GetRequiredService<PendingSignInStore>();

        var options = services.GetRequiredService<SsoOptions>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        // Every key of the ring decrypts: an IdP may still encrypt to the previous certificate after a rotation.
        var spCertificates = await services.GetRequiredService<SamlServiceProviderKeys>().GetCertificatesAsync(connection.Id, cancellationToken);
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
                services.GetRequiredService<Audit.RefusalCounter>().Count(connection.TenantId.Value,
                    "acs:" + validated.Error.Kind, connection.Id.Value);
                return issuer.ErrorRedirect(pending, OAuthErrorCodes.AccessDenied, SignInRefusals.IdpResponseRejected);
            }
            return await issuer.FailAsync(context, pending, OAuthErrorCodes.AccessDenied, SignInRefusals.IdpResponseRejected,
                cancellationToken, validated.Error.Kind.ToString());
        }
        var assertion = validated.Value;
        // Core §2.7.2 AuthnInstant against the client's prompt=login / max_age (sent on as ForceAuthn).
        if (AuthenticationFreshness.Check(pending.StepUp, assertion.AuthnInstant, pending.CreatedAt, now, clockSkew) is { } stale)
        {
            LogRejected(logger, connection.Id.Value, stale.Kind.ToString());
            if (stored) await pendingStore.RemoveAsync(pending, cancellationToken);
            return await issuer.FailAsync(context, pending, OAuthErrorCodes.AccessDenied, SignInRefusals.StaleAuthentication,
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
            ? services.GetRequiredService<AssertionReplayStore>().WasRecordedAsync(connection.Id, assertion.Id, cancellationToken)
            : Task.FromResult(false);
        var decided = issuer.DecideAsync(context, pending, connection, identity, cancellationToken);
        await Task.WhenAll(legacyTaken, legacyReplay, decided);
        var issued = issuer.Prepare(pending, connection, identity, decided.Result);
        var outcome = !legacyTaken.Result ? new SignInCommitOutcome.PendingTaken()
            : legacyReplay.Result ? new SignInCommitOutcome.AssertionReplayed()
            : await services.GetRequiredService<ConnectionSignInStore>().CommitAsync(new SignInCommit(connection.Id,
                pending.InConnectionPartition ? pending : null, assertion.Id, assertion.ReplayCacheUntil,
                stored ? HandleOwner(pending.Handle) : null, issued), cancellationToken);
        switch (outcome)
        {
            case SignInCommitOutcome.PendingTaken:
                LogRejected(logger, connection.Id.Value, "RelayStateUnknown");
                await services.GetRequiredService<Audit.AuditLog>().RecordSignInAsync(context, connection.TenantId, connection.Id, null,
                    "failure", SignInRefusals.IdpResponseRejected, "RelayStateUnknown");
                return NoRedirectPage(AlreadyCompleted);
            case SignInCommitOutcome.AssertionReplayed:
                LogRejected(logger, connection.Id.Value, nameof(SamlFailureKind.Replayed));
                // The transaction left the pending sign-in in place; a refused answer uses it up all the same.
                if (stored && pending.InConnectionPartition) await pendingStore.RemoveAsync(pending, cancellationToken);
                return await issuer.FailAsync(context, pending, OAuthErrorCodes.AccessDenied, SignInRefusals.IdpResponseRejected,
                    cancellationToken, nameof(SamlFailureKind.Replayed));
            case SignInCommitOutcome.Committed { Code: { } code }:
                return await issuer.SucceededAsync(context, pending, connection, code);
            default:
                return await issuer.FailAsync(context, pending, OAuthErrorCodes.AccessDenied,
                    decided.Result.Refusal ?? SignInRefusals.ConnectionUnavailable, cancellationToken);
        }
    }

    /// <summary>
    /// A refusal with no pending sign-in of ours behind it (issue 18.10): audited only when the IdP
    /// really signed the response, so the tenant's admin sees a misconfigured IdP; anything else
    /// could come from anyone and is counted, so a script cannot flush the sign-in attempts list.
    /// </summary>
    private static async Task RecordAnonymousRefusalAsync(HttpContext context, Connection connection, string? samlResponse,
        string kind, CancellationToken cancellationToken)
    {
        var services = context.RequestServices;
        // Junk that is not even a SAML document costs no key read.
        var signed = SamlResponseReader.Read(samlResponse).IsSuccess && IsSignedByIdp(samlResponse, connection,
            await services.GetRequiredService<SamlServiceProviderKeys>().GetCertificatesAsync(connection.Id, cancellationToken));
        if (signed)
            await services.GetRequiredService<Audit.AuditLog>().RecordSignInAsync(context, connection.TenantId, connection.Id, null,
                "failure", SignInRefusals.IdpResponseRejected, kind);
        else
            services.GetRequiredService<Audit.RefusalCounter>().Count(connection.TenantId.Value, "acs:" + kind, connection.Id.Value);
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
    private static async Task<Result<(PendingSignIn Pending, bool Stored), AcsRefusal>> ResolvePendingSignInAsync(HttpContext context,
        Connection connection, string? relayState, CancellationToken cancellationToken)
    {
        var services = context.RequestServices;
        if (PendingSignIn.TryReadConnection(relayState, out var relayConnection))
        {
            // The RelayState must belong to a request that this connection started.
            if (relayConnection != connection.Id)
                return new AcsRefusal("RelayStateOfAnotherConnection",
                    "The RelayState belongs to another SAML connection. Start the sign-in again from the application.");
            // Read, not yet removed: the removal is one of the single-use writes after the checks.
            var pendingStore = services.GetRequiredService<PendingSignInStore>();
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
            || await services.GetRequiredService<ClientStore>().FindCachedAsync(clientId, cancellationToken) is not { } client
            || !client.HasRedirectUri(redirectUri))
            return new AcsRefusal("IdpInitiatedMisconfigured",
                "IdP-initiated sign-in is enabled, but its client or redirect URI is no longer registered.");
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
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

    private static async Task<(string? SamlResponse, string? RelayState)?> ReadFormAsync(HttpContext context)
    {
        try
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            if (form["SAMLResponse"].Count > 1 || form["RelayState"].Count > 1) return null;
            var relayState = form["RelayState"].ToString();
            return (form["SAMLResponse"].ToString(), relayState.Length > 0 ? relayState : null);
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    private static async Task<Connection?> FindConnectionAsync(HttpContext context)
    {
        if (!ConnectionId.TryParse(context.RouteString("connectionId"), out var id)) return null;
        var connection = await context.RequestServices.GetRequiredService<ConnectionStore>().FindCachedByIdAsync(id, context.RequestAborted);
        return connection is { Type: ConnectionTypes.Saml } ? connection : null;
    }

    private static IResult NoRedirectPage(string message) => OAuthResults.Page(400, "Sign-in failed", message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SAML response rejected: {FailureKind} (connection {ConnectionId})")]
    private static partial void LogRejected(ILogger logger, string connectionId, string failureKind);
}
