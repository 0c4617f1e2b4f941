using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Storage.Secrets;
using Sso.Protocols.Oidc;

namespace Sso.Functions.Oidc;

/// <summary>
/// The OIDC side of the connections API: <c>{type:"oidc", issuer, clientId, clientSecret, scopes?,
/// entraTenantIds?, clockSkewSeconds?, name?}</c>. Discovery is fetched and validated before
/// anything is stored, so a connection that exists can sign in. The client secret goes to the
/// secret store under a name derived from the connection id; the row never holds it.
/// </summary>
public sealed partial class OidcConnectionSetup(TimeProvider clock, SsoOptions options, ISecretStore secrets, OidcProviderCache providers)
    : IConnectionTypeSetup
{
    public const int DefaultClockSkewSeconds = 180;
    public const int MaxScopes = 20;
    public const int MaxEntraTenants = 50;

    private static readonly HashSet<string> Members =
    [
        "type", "name", "issuer", "clientId", "clientSecret", "scopes", "entraTenantIds", "clockSkewSeconds",
        OidcConnectionConfig.GoogleHostedDomainSetting, OidcConnectionConfig.AllowUnverifiedEmailSetting, .. ConnectionSignInSettings.Members,
    ];

    public static string ClientSecretName(ConnectionId id) => "oidc-client-secret-" + id.Value.Replace('_', '-');

    public string Type => ConnectionTypes.Oidc;

    public async Task<Result<Connection, Problem>> CreateAsync(ConnectionId id, TenantId tenantId, JsonObject body,
        CancellationToken cancellationToken)
    {
        if (JsonMergePatch.FirstUnknownMember(body, Members) is { } unknown) return Problem.UnknownField(unknown);
        foreach (var required in new[] { "issuer", "clientId", "clientSecret" })
            if (body[required] is null)
                return Problem.Validation($"'{required}' is required for an OIDC connection.");
        var now = clock.GetUtcNow();
        var config = new JsonObject
        {
            ["scopes"] = new JsonArray(OidcAuthorizationRequest.DefaultScopes.Select(s => (JsonNode?)s).ToArray()),
            ["clockSkewSeconds"] = DefaultClockSkewSeconds,
            [OidcConnectionConfig.AllowUnverifiedEmailSetting] = false,
        };
        ConnectionSignInSettings.SetDefaults(config);
        var applied = await ApplyAsync(config, body, now, cancellationToken);
        if (!applied.IsSuccess) return applied.Error;
        var name = ReadName(body);
        if (!name.IsSuccess) return name.Error;

        var connection = new Connection(id, tenantId, ConnectionTypes.Oidc, name.Value, applied.Value.Config, now, now);
        // Order: the secret first, then (in the caller) the row. A crash in between leaves a secret
        // named after an id that no row will ever carry; it is never read.
        await secrets.SetAsync(ClientSecretName(connection.Id), applied.Value.ClientSecret!, cancellationToken);
        return connection;
    }

    public async Task<Result<Connection, Problem>> UpdateAsync(Connection before, JsonObject patch, CancellationToken cancellationToken)
    {
        if (JsonMergePatch.FirstUnknownMember(patch, Members) is { } unknown) return Problem.UnknownField(unknown);
        if (patch["type"] is { } type && type.ToString() != ConnectionTypes.Oidc)
            return Problem.Validation("A connection's 'type' cannot change; create a new connection.");
        // The stored secret belongs to one client at one IdP: sent to a new issuer or for another
        // client id it would hand that IdP our credential. A change of either brings its own secret.
        if (!patch.ContainsKey("clientSecret")
            && (Changes(patch, "issuer", before.ConfigString("issuer")) || Changes(patch, "clientId", before.ConfigString("clientId"))))
            return Problem.Validation("Changing 'issuer' or 'clientId' needs the matching 'clientSecret' in the same request; " +
                                      "the stored secret is never sent to another IdP or client.");
        var now = clock.GetUtcNow();
        var applied = await ApplyAsync(before.Config.DeepClone().AsObject(), patch, now, cancellationToken);
        if (!applied.IsSuccess) return applied.Error;
        var name = before.Name;
        if (patch.ContainsKey("name"))
        {
            var read = ReadName(patch);
            if (!read.IsSuccess) return read.Error;
            name = read.Value;
        }
        // A new secret replaces the old one before the row changes: the secret is not versioned with
        // the row, and the old one is useless once the IdP has rotated it anyway.
        if (applied.Value.ClientSecret is { } secret)
            await secrets.SetAsync(ClientSecretName(before.Id), secret, cancellationToken);
        return before with { Name = name, Config = applied.Value.Config, UpdatedAt = now };
    }

    private static bool Changes(JsonObject patch, string member, string? current) =>
        patch.ContainsKey(member) && !(patch[member] is JsonValue value && value.TryGetValue<string>(out var text)
                                       && string.Equals(text.Trim(), current, StringComparison.Ordinal));

    /// <summary>The client secret is stored with the row's data, in <see cref="CreateAsync"/>.</summary>
    public Task BeforeCreateAsync(Connection connection, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Called after an OIDC connection row was deleted: remove its client secret.</summary>
    public Task DeletedAsync(Connection connection, CancellationToken cancellationToken) =>
        secrets.DeleteAsync(ClientSecretName(connection.Id), cancellationToken);

    /// <summary>Discovery is read when the issuer is set; there is no metadata URL to poll.</summary>
    public Task<MetadataRefresh?> RefreshMetadataAsync(Connection connection, CancellationToken cancellationToken) =>
        Task.FromResult<MetadataRefresh?>(null);

    public void DescribeUrls(JsonObject view, Connection connection) => view["redirectUri"] = options.Url("/oidc/callback");

    private sealed record Applied(JsonObject Config, string? ClientSecret);

    private async Task<Result<Applied, Problem>> ApplyAsync(JsonObject config, JsonObject input, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        string? secret = null;
        if (input.ContainsKey("clientId"))
        {
            if (!TryString(input["clientId"], out var clientId) || clientId.Trim().Length is 0 or > 512)
                return Problem.Validation("'clientId' must be the client id the IdP issued (1-512 characters).");
            config["clientId"] = clientId.Trim();
        }
        if (input.ContainsKey("clientSecret"))
        {
            if (!TryString(input["clientSecret"], out var value) || value.Length is 0 or > 2048)
                return Problem.Validation("'clientSecret' must be the client secret the IdP issued (1-2048 characters).");
            secret = value;
        }
        if (input.ContainsKey("scopes"))
        {
            if (input["scopes"] is not JsonArray scopes || scopes.Count > MaxScopes)
                return Problem.Validation($"'scopes' must be an array of at most {MaxScopes} scope names.");
            var list = new List<string>();
            foreach (var item in scopes)
            {
                // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
                if (!TryString(item, out var scope) || !ScopeToken().IsMatch(scope))
                    return Problem.Validation("Each of 'scopes' must be a scope name (printable ASCII, no spaces, quotes or backslashes).");
                list.Add(scope);
            }
            config["scopes"] = new JsonArray(OidcAuthorizationRequest.NormalizeScopes(list).Select(s => (JsonNode?)s).ToArray());
        }
        if (input.ContainsKey("clockSkewSeconds"))
        {
            if (input["clockSkewSeconds"] is not JsonValue v || !v.TryGetValue<int>(out var skew) || skew is < 0 or > 600)
                return Problem.Validation("'clockSkewSeconds' must be a whole number from 0 to 600.");
            config["clockSkewSeconds"] = skew;
        }
        if (ConnectionSignInSettings.Apply(config, input) is { } guardProblem) return guardProblem;
        if (input.ContainsKey(OidcConnectionConfig.AllowUnverifiedEmailSetting))
        {
            if (input[OidcConnectionConfig.AllowUnverifiedEmailSetting] is not JsonValue allowValue || !allowValue.TryGetValue<bool>(out var allowUnverified))
                return Problem.Validation("'allowUnverifiedEmail' must be true or false.");
            config[OidcConnectionConfig.AllowUnverifiedEmailSetting] = allowUnverified;
        }
        if (input.ContainsKey(OidcConnectionConfig.GoogleHostedDomainSetting))
        {
            // Google Workspace: 'hd' names the Workspace domain of the account; null stops the check.
            if (input[OidcConnectionConfig.GoogleHostedDomainSetting] is null)
                config.Remove(OidcConnectionConfig.GoogleHostedDomainSetting);
            else if (!TryString(input[OidcConnectionConfig.GoogleHostedDomainSetting], out var hd)
                     || Tenants.DomainName.Normalize(hd) is not { IsSuccess: true } hostedDomain)
                return Problem.Validation("'googleHostedDomain' must be the Google Workspace domain (e.g. \"example.com\") or null.");
            else
                config[OidcConnectionConfig.GoogleHostedDomainSetting] = hostedDomain.Value;
        }
        if (input.ContainsKey("entraTenantIds"))
        {
            if (input["entraTenantIds"] is not JsonArray ids || ids.Count > MaxEntraTenants)
                return Problem.Validation($"'entraTenantIds' must be an array of at most {MaxEntraTenants} Entra tenant ids (GUIDs).");
            var list = new JsonArray();
            foreach (var item in ids)
            {
                if (!TryString(item, out var text) || !Guid.TryParse(text, out var guid))
                    return Problem.Validation("Each of 'entraTenantIds' must be an Entra tenant id (a GUID, the 'Directory (tenant) ID').");
                list.Add((JsonNode?)JsonValue.Create(guid.ToString("D")));
            }
            config["entraTenantIds"] = list;
        }

        if (input.ContainsKey("issuer"))
        {
            if (!TryString(input["issuer"], out var raw))
                return Problem.Validation("'issuer' must be the IdP's issuer URL.");
            // Issuers are compared exactly (Discovery §4.3); only a trailing slash on the input is forgiven.
            var issuer = raw.Trim();
            var checkedUrl = OidcDiscoveryReader.CheckUrl(issuer, "issuer", options.AllowLoopbackHttp);
            if (!checkedUrl.IsSuccess) return Problem.Validation(checkedUrl.Error.Message);
            if (checkedUrl.Value.Query.Length > 0)
                return Problem.Validation("'issuer' must not have a query (OpenID Connect Discovery §2).");

            var metadata = await providers.FetchMetadataAsync(issuer, cancellationToken);
            if (!metadata.IsSuccess && issuer.EndsWith('/'))
            {
                var trimmed = await providers.FetchMetadataAsync(issuer.TrimEnd('/'), cancellationToken);
                if (trimmed.IsSuccess) (issuer, metadata) = (issuer.TrimEnd('/'), trimmed);
            }
            if (!metadata.IsSuccess)
                return new Problem(422, "oidc-discovery-failed", "The IdP's OpenID Connect discovery document could not be used",
                    $"{OidcDiscoveryReader.DiscoveryUrl(issuer)}: {metadata.Error.Message}");
            config["issuer"] = issuer;
            config["discoveredIssuer"] = metadata.Value.Issuer;
            config["authorizationEndpoint"] = metadata.Value.AuthorizationEndpoint.AbsoluteUri;
            config["tokenEndpoint"] = metadata.Value.TokenEndpoint.AbsoluteUri;
            config["tokenEndpointAuthMethod"] = metadata.Value.TokenEndpointAuthMethod == OidcClientAuthMethod.ClientSecretBasic
                ? "client_secret_basic"
                : "client_secret_post";
            config["discoveryCheckedAt"] = now.ToString("O");
        }

        // An Entra multi-tenant app admits every Entra tenant; the connection must say whose users it is for.
        if (config["discoveredIssuer"]?.ToString() is { } discovered
            && discovered.Contains(OidcDiscoveryReader.EntraTenantPlaceholder, StringComparison.Ordinal)
            && config["entraTenantIds"] is not JsonArray { Count: > 0 })
            return Problem.Validation(
                "The issuer is an Entra ID multi-tenant authority; list the customer's 'entraTenantIds' (Directory (tenant) IDs), "
                + "or use the tenant-specific issuer https://login.microsoftonline.com/<tenant id>/v2.0.");
        return new Applied(config, secret);
    }

    private static Result<string?, Problem> ReadName(JsonObject body)
    {
        if (body["name"] is null) return (string?)null;
        if (body["name"] is not JsonValue value || !value.TryGetValue<string>(out var name) || name.Length > 200)
            return Problem.Validation("'name' must be a string of at most 200 characters.");
        return name.Trim();
    }

    private static bool TryString(JsonNode? node, out string text)
    {
        text = "";
        if (node is not JsonValue value || !value.TryGetValue<string>(out var s)) return false;
        text = s;
        return true;
    }

    [GeneratedRegex(@"^[\x21\x23-\x5B\x5D-\x7E]{1,128}$")]
    private static partial Regex ScopeToken();
}
