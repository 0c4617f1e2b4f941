using Sso.Functions.Storage;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Protocols.OAuth;
using Sso.Protocols.Saml;

namespace Sso.Functions.Saml;

/// <summary>
/// The SAML side of the connections API: builds a connection's configuration from IdP
/// metadata (pasted or fetched) or from entity ID + SSO URL + certificates, and applies updates.
/// The stored configuration is the last good copy: a failed metadata refresh never replaces it.
/// </summary>
public sealed class SamlConnectionSetup(TimeProvider clock, SsoOptions options, IdpMetadataFetcher fetcher, ClientStore clients,
    SamlServiceProviderKeys keys) : IConnectionTypeSetup
{
    public const int MaxCertificates = 10;
    public const int DefaultClockSkewSeconds = 180;
    public const string SingleLogoutServicesKey = "idpSingleLogoutServices";

    private static readonly HashSet<string> Members =
    [
        "type", "name", "idpMetadataXml", "idpMetadataUrl", "idpEntityId", "idpSsoUrl", "idpCertificates",
        "allowSha1", "clockSkewSeconds", "signAuthnRequests", "attributeMapping", "idpInitiated", "encryptionAlgorithms",
        .. ConnectionSignInSettings.Members,
    ];

    private static readonly HashSet<string> MappingMembers = ["email", "firstName", "lastName", "groups"];
    private static readonly HashSet<string> IdpInitiatedMembers = ["enabled", "clientId", "redirectUri"];

    public string Type => ConnectionTypes.Saml;

    public async Task<Result<Connection, Problem>> CreateAsync(ConnectionId id, TenantId tenantId, JsonObject body,
        CancellationToken cancellationToken)
    {
        if (CheckMembers(body) is { } unknown) return unknown;
        var sources = new[] { "idpMetadataXml", "idpMetadataUrl", "idpEntityId" }.Count(body.ContainsKey);
        if (sources != 1)
            return Problem.Validation(
                "Give exactly one of 'idpMetadataXml', 'idpMetadataUrl', or 'idpEntityId' with 'idpSsoUrl' and 'idpCertificates'.");
        var now = clock.GetUtcNow();
        var defaults = new JsonObject
        {
            ["allowSha1"] = false,
            ["clockSkewSeconds"] = DefaultClockSkewSeconds,
            ["signAuthnRequests"] = false,
            ["attributeMapping"] = new JsonObject(),
            ["idpInitiated"] = new JsonObject { ["enabled"] = false },
        };
        ConnectionSignInSettings.SetDefaults(defaults);
        var config = await ApplyAsync(defaults, body, now, cancellationToken);
        if (!config.IsSuccess) return config.Error;
        if (ReadName(body) is { IsSuccess: false } badName) return badName.Error;
        return new Connection(id, tenantId, ConnectionTypes.Saml, ReadName(body).Value, config.Value, now, now);
    }

    public async Task<Result<Connection, Problem>> UpdateAsync(Connection before, JsonObject patch, CancellationToken cancellationToken)
    {
        if (CheckMembers(patch) is { } unknown) return unknown;
        if (patch["type"] is { } type && type.ToString() != ConnectionTypes.Saml)
            return Problem.Validation("A connection's 'type' cannot change; create a new connection.");
        var now = clock.GetUtcNow();
        var config = await ApplyAsync(before.Config.DeepClone().AsObject(), patch, now, cancellationToken);
        if (!config.IsSuccess) return config.Error;
        var name = before.Name;
        if (patch.ContainsKey("name"))
        {
            var read = ReadName(patch);
            if (!read.IsSuccess) return read.Error;
            name = read.Value;
        }
        return before with { Name = name, Config = config.Value, UpdatedAt = now };
    }

    /// <summary>Every SAML connection is its own SP with its own keys, made before its row.</summary>
    public async Task BeforeCreateAsync(Connection connection, CancellationToken cancellationToken) =>
        await keys.GetOrCreateAsync(connection.Id, cancellationToken);

    public Task DeletedAsync(Connection connection, CancellationToken cancellationToken) =>
        keys.DeleteAsync(connection.Id, cancellationToken);

    public void DescribeUrls(JsonObject view, Connection connection)
    {
        view["spEntityId"] = SamlServiceProviderUrls.EntityId(options, connection.Id);
        view["acsUrl"] = SamlServiceProviderUrls.AcsUrl(options, connection.Id);
        view["spMetadataUrl"] = SamlServiceProviderUrls.MetadataUrl(options, connection.Id);
    }

    /// <summary>Fetches the metadata URL again; a failure is recorded and the last good copy kept. Null without a metadata URL.</summary>
    public async Task<MetadataRefresh?> RefreshMetadataAsync(Connection connection, CancellationToken cancellationToken)
    {
        if (connection.ConfigString("idpMetadataUrl") is not { } url) return null;
        var now = clock.GetUtcNow();
        var config = connection.Config.DeepClone().AsObject();
        var checkedUrl = fetcher.CheckUrl(url);
        var error = checkedUrl.IsSuccess ? null : checkedUrl.Error;
        if (error is null)
        {
            var fetched = await fetcher.FetchAsync(checkedUrl.Value, cancellationToken);
            if (!fetched.IsSuccess) error = fetched.Error;
            else if (ReadMetadata(config, fetched.Value, now) is { } readError) error = readError;
        }
        config["metadataCheckedAt"] = now.ToString("O");
        if (error is null)
        {
            config["metadataFetchedAt"] = now.ToString("O");
            config.Remove("metadataRefreshError");
        }
        else
        {
            config["metadataRefreshError"] = error;
        }
        return new MetadataRefresh(connection with { Config = config, UpdatedAt = now }, error);
    }

    private static Problem? CheckMembers(JsonObject body)
    {
        if (JsonMergePatch.FirstUnknownMember(body, Members) is { } unknown) return Problem.UnknownField(unknown);
        if (body["attributeMapping"] is JsonObject mapping && JsonMergePatch.FirstUnknownMember(mapping, MappingMembers, "attributeMapping.") is { } m)
            return Problem.UnknownField(m);
        if (body["idpInitiated"] is JsonObject idp && JsonMergePatch.FirstUnknownMember(idp, IdpInitiatedMembers, "idpInitiated.") is { } i)
            return Problem.UnknownField(i);
        return null;
    }

    private static Result<string?, Problem> ReadName(JsonObject body)
    {
        if (body["name"] is null) return (string?)null;
        if (body["name"] is not JsonValue value || !value.TryGetValue<string>(out var name) || name.Length > 200)
            return Problem.Validation("'name' must be a string of at most 200 characters.");
        return name.Trim();
    }

    private async Task<Result<JsonObject, Problem>> ApplyAsync(JsonObject config, JsonObject input, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        if (input.ContainsKey("idpMetadataXml"))
        {
            if (!TryString(input["idpMetadataXml"], out var xml) || xml.Length == 0)
                return Problem.Validation("'idpMetadataXml' must be the IdP's metadata XML as a string.");
            if (ReadMetadata(config, System.Text.Encoding.UTF8.GetBytes(xml), now) is { } error)
                return Problem.Validation($"idpMetadataXml: {error}");
            config.Remove("idpMetadataUrl");
            config.Remove("metadataRefreshError");
        }
        if (input.ContainsKey("idpMetadataUrl"))
        {
            if (input["idpMetadataUrl"] is null)
            {
                config.Remove("idpMetadataUrl");
            }
            else
            {
                if (!TryString(input["idpMetadataUrl"], out var url))
                    return Problem.Validation("'idpMetadataUrl' must be a string.");
                var checkedUrl = fetcher.CheckUrl(url);
                if (!checkedUrl.IsSuccess) return Problem.Validation(checkedUrl.Error + ".");
                var fetched = await fetcher.FetchAsync(checkedUrl.Value, cancellationToken);
                if (!fetched.IsSuccess)
                    return new Problem(422, "idp-metadata-unavailable", "The IdP metadata could not be fetched",
                        $"idpMetadataUrl: {fetched.Error}.");
                if (ReadMetadata(config, fetched.Value, now) is { } error)
                    return new Problem(422, "idp-metadata-invalid", "The IdP metadata could not be read", $"idpMetadataUrl: {error}");
                config["idpMetadataUrl"] = checkedUrl.Value.ToString();
                config["metadataFetchedAt"] = now.ToString("O");
                config.Remove("metadataRefreshError");
            }
        }
        if (input.ContainsKey("idpEntityId"))
        {
            if (!TryString(input["idpEntityId"], out var entityId) || entityId.Trim().Length is 0 or > 1024)
                return Problem.Validation("'idpEntityId' must be a string of 1-1024 characters.");
            config["idpEntityId"] = entityId.Trim();
        }
        if (input.ContainsKey("idpSsoUrl"))
        {
            if (!TryString(input["idpSsoUrl"], out var ssoUrl)) return Problem.Validation("'idpSsoUrl' must be a string.");
            config["idpSsoUrl"] = ssoUrl.Trim();
            config["idpSsoBinding"] = SamlUris.HttpRedirectBinding;
        }
        if (input.ContainsKey("idpCertificates"))
        {
            if (input["idpCertificates"] is not JsonArray pems || pems.Count is 0 or > MaxCertificates)
                return Problem.Validation($"'idpCertificates' must list 1-{MaxCertificates} PEM certificates.");
            var ders = new JsonArray();
            foreach (var pem in pems)
            {
                if (!TryString(pem, out var text) || ReadCertificate(text) is not { } der)
                    return Problem.Validation("Each of 'idpCertificates' must be an X.509 certificate in PEM (or base64 DER).");
                using (var certificate = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(der)))
                    if (SigningKeyStrength.WhyTooWeak(certificate) is { } weak)
                        return Problem.Validation($"An IdP signing certificate ({certificate.Subject}) is refused: {weak}.");
                ders.Add((JsonNode?)JsonValue.Create(der));
            }
            config["idpCertificates"] = ders;
        }
        if (ConnectionSignInSettings.Apply(config, input) is { } guardProblem) return guardProblem;
        if (input.ContainsKey("allowSha1"))
        {
            if (input["allowSha1"] is not JsonValue v || !v.TryGetValue<bool>(out var allow))
                return Problem.Validation("'allowSha1' must be true or false.");
            config["allowSha1"] = allow;
        }
        if (input.ContainsKey("encryptionAlgorithms"))
        {
            if (input["encryptionAlgorithms"] is not JsonArray names || names.Count is 0 or > 4
                || names.Any(n => n is not JsonValue value || !value.TryGetValue<string>(out var name) || !SamlAlgorithms.EncryptionByShortName.ContainsKey(name)))
                return Problem.Validation("'encryptionAlgorithms' must list 1-4 of 'aes128-gcm', 'aes256-gcm', 'aes128-cbc', 'aes256-cbc' " +
                                          "(CBC is then accepted only from a signed Response).");
            config["encryptionAlgorithms"] = new JsonArray(names.Select(n => (JsonNode?)JsonValue.Create(n!.GetValue<string>().ToLowerInvariant())).Distinct().ToArray());
        }
        if (input.ContainsKey("signAuthnRequests"))
        {
            if (input["signAuthnRequests"] is not JsonValue v || !v.TryGetValue<bool>(out var sign))
                return Problem.Validation("'signAuthnRequests' must be true or false.");
            config["signAuthnRequests"] = sign;
        }
        if (input.ContainsKey("clockSkewSeconds"))
        {
            if (input["clockSkewSeconds"] is not JsonValue v || !v.TryGetValue<int>(out var skew) || skew is < 0 or > 600)
                return Problem.Validation("'clockSkewSeconds' must be a whole number from 0 to 600.");
            config["clockSkewSeconds"] = skew;
        }
        if (input.ContainsKey("attributeMapping"))
        {
            if (input["attributeMapping"] is not JsonObject mapping)
                return Problem.Validation("'attributeMapping' must be an object of attribute names.");
            var merged = JsonMergePatch.Apply(config["attributeMapping"], mapping) as JsonObject ?? new JsonObject();
            foreach (var (name, value) in merged)
                if (!TryString(value, out var attribute) || attribute.Length is 0 or > 512)
                    return Problem.Validation($"attributeMapping.{name} must be an attribute name of 1-512 characters.");
            config["attributeMapping"] = merged;
        }
        if (input.ContainsKey("idpInitiated"))
        {
            if (input["idpInitiated"] is not JsonObject idpInitiated)
                return Problem.Validation("'idpInitiated' must be an object {enabled, clientId, redirectUri}.");
            config["idpInitiated"] = JsonMergePatch.Apply(config["idpInitiated"], idpInitiated) as JsonObject ?? new JsonObject();
        }
        return await ValidateAsync(config, cancellationToken);
    }

    private async Task<Result<JsonObject, Problem>> ValidateAsync(JsonObject config, CancellationToken cancellationToken)
    {
        if (config["idpEntityId"] is null) return Problem.Validation("'idpEntityId' is required (or give IdP metadata).");
        if (!TryString(config["idpSsoUrl"], out var ssoUrl) || !IsAllowedIdpUrl(ssoUrl, options))
            return Problem.Validation("'idpSsoUrl' must be the IdP's https SingleSignOnService URL.");
        foreach (var slo in (config[SingleLogoutServicesKey] as JsonArray ?? []).OfType<JsonObject>())
            foreach (var url in new[] { slo["location"], slo["responseLocation"] }.Where(u => u is not null))
                if (!TryString(url, out var sloUrl) || !IsAllowedIdpUrl(sloUrl, options))
                    return Problem.Validation("The IdP metadata's SingleLogoutService must be an https URL.");
        if (config["idpCertificates"] is not JsonArray { Count: > 0 })
            return Problem.Validation("'idpCertificates' must list at least one IdP signing certificate (PEM).");

        if (config["idpInitiated"] is JsonObject idp && idp["enabled"] is { } enabledNode)
        {
            if (enabledNode is not JsonValue ev || !ev.TryGetValue<bool>(out var enabled))
                return Problem.Validation("idpInitiated.enabled must be true or false.");
            if (enabled)
            {
                if (!TryString(idp["clientId"], out var clientId) || !ClientId.TryParse(clientId, out var id))
                    return Problem.Validation("idpInitiated.clientId must be the id of a registered client (cli_…).");
                var client = await clients.FindAsync(id, cancellationToken);
                if (client is null) return Problem.Validation($"idpInitiated.clientId: there is no client '{clientId}'.");
                if (!TryString(idp["redirectUri"], out var redirectUri) || !client.HasRedirectUri(redirectUri))
                    return Problem.Validation("idpInitiated.redirectUri must be one of the client's registered redirect URIs.");
            }
        }

        var candidate = new Connection(default, default, ConnectionTypes.Saml, null, config, default, default);
        if (!candidate.FitsInRow) return Problem.Validation("The connection's configuration is too large to store.");
        return config;
    }

    /// <summary>Copies entity ID, SSO URL and signing certificates out of metadata; null on success, else why not.</summary>
    private static string? ReadMetadata(JsonObject config, byte[] metadataXml, DateTimeOffset now)
    {
        var read = IdpMetadataReader.Read(metadataXml, now);
        if (!read.IsSuccess) return read.Error.Message;
        var metadata = read.Value;
        var (binding, url) = metadata.SingleSignOnUrl(SamlUris.HttpRedirectBinding) is { } redirect
            ? (SamlUris.HttpRedirectBinding, redirect)
            : metadata.SingleSignOnUrl(SamlUris.HttpPostBinding) is { } post
                ? (SamlUris.HttpPostBinding, post)
                : (null, null);
        if (url is null) return "the IdP metadata has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding.";
        if (metadata.SigningCertificates.Count == 0) return "the IdP metadata has no signing certificate.";
        if (metadata.SigningCertificates.Select(c => (c.Subject, Weak: SigningKeyStrength.WhyTooWeak(c))).FirstOrDefault(c => c.Weak is not null)
            is { Weak: { } weak } refused)
            return $"the IdP metadata's signing certificate ({refused.Subject}) is refused: {weak}.";
        config["idpEntityId"] = metadata.EntityId;
        config["idpSsoUrl"] = url;
        config["idpSsoBinding"] = binding;
        config["idpCertificates"] = new JsonArray(metadata.SigningCertificates.Take(MaxCertificates)
            .Select(c => (JsonNode?)JsonValue.Create(Convert.ToBase64String(c.RawData))).ToArray());
        if (metadata.WantAuthnRequestsSigned) config["signAuthnRequests"] = true;
        // Single Logout over the bindings we speak; none listed means the IdP offers no SLO.
        var logout = new JsonArray();
        foreach (var slo in metadata.SingleLogoutServices.Where(s => s.Binding is SamlUris.HttpRedirectBinding or SamlUris.HttpPostBinding))
            if (!logout.OfType<JsonObject>().Any(o => o["binding"]?.GetValue<string>() == slo.Binding))
                logout.Add((JsonNode)new JsonObject { ["binding"] = slo.Binding, ["location"] = slo.Location, ["responseLocation"] = slo.ResponseLocation });
        if (logout.Count > 0) config[SingleLogoutServicesKey] = logout;
        else config.Remove(SingleLogoutServicesKey);
        return null;
    }

    private static bool IsAllowedIdpUrl(string url, SsoOptions options) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && string.IsNullOrEmpty(uri.UserInfo)
        && (uri.Scheme == Uri.UriSchemeHttps
            || (uri.Scheme == Uri.UriSchemeHttp && RedirectUriPolicy.IsLoopback(uri) && options.AllowLoopbackHttp));

    private static string? ReadCertificate(string text)
    {
        try
        {
            var trimmed = text.Trim();
            var certificate = trimmed.StartsWith("-----BEGIN", StringComparison.Ordinal)
                ? X509Certificate2.CreateFromPem(trimmed)
                : X509CertificateLoader.LoadCertificate(Convert.FromBase64String(trimmed));
            using (certificate)
                return certificate.GetRSAPublicKey() is null && certificate.GetECDsaPublicKey() is null
                    ? null
                    : Convert.ToBase64String(certificate.RawData);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or FormatException or ArgumentException)
        {
            return null;
        }
    }

    private static bool TryString(JsonNode? node, out string text)
    {
        text = "";
        if (node is not JsonValue value || !value.TryGetValue<string>(out var s)) return false;
        text = s;
        return true;
    }

    /// <summary>
    /// The IdP's SingleLogoutService for <paramref name="binding"/>, or, with none given, the
    /// one this service starts logout with (HTTP-Redirect before HTTP-POST); null without SLO.
    /// </summary>
    public static SamlEndpoint? SingleLogoutService(Connection connection, string? binding = null)
    {
        var services = (connection.Config[SingleLogoutServicesKey] as JsonArray ?? []).OfType<JsonObject>()
            .Select(o => new SamlEndpoint(o["binding"]!.GetValue<string>(), o["location"]!.GetValue<string>(),
                o["responseLocation"]?.GetValue<string>()))
            .ToList();
        return binding is not null
            ? services.FirstOrDefault(s => s.Binding == binding)
            : services.FirstOrDefault(s => s.Binding == SamlUris.HttpRedirectBinding) ?? services.FirstOrDefault();
    }

    /// <summary>The xmlenc URIs of the data encryption the connection accepts; AES-GCM when it names none.</summary>
    public static IReadOnlyCollection<string> EncryptionAlgorithms(Connection connection) =>
        connection.Config["encryptionAlgorithms"] is JsonArray names
            ? names.OfType<JsonValue>().Select(n => SamlAlgorithms.EncryptionByShortName.GetValueOrDefault(n.GetValue<string>()))
                .OfType<string>().ToList()
            : SamlAlgorithms.GcmEncryption;

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Connection, IReadOnlyList<X509Certificate2>> ParsedIdpCertificates = new();

    /// <summary>
    /// The IdP's certificates for checking its signatures, parsed once per connection object: a
    /// cached connection is one object until it changes, so a burst of sign-ins parses them once.
    /// Shared: the caller must not dispose them (<see cref="IdpCertificates"/> gives its own copies).
    /// </summary>
    public static IReadOnlyList<X509Certificate2> SharedIdpCertificates(Connection connection) =>
        ParsedIdpCertificates.GetValue(connection, IdpCertificates);

    /// <summary>The IdP signing certificates of a SAML connection, the caller's own copies to dispose.</summary>
    public static IReadOnlyList<X509Certificate2> IdpCertificates(Connection connection) => connection.IdpCertificates();
}
