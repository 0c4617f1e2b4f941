using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;

namespace Sso.Functions.Setup;

/// <summary>A new setup link and its URL, which holds the secret and is shown this once.</summary>
public sealed record IssuedSetupLink(SetupLink Link, string Url);

/// <summary>A tenant's setup link and its status now (<c>active</c>, <c>expired</c> or <c>revoked</c>).</summary>
public sealed record ListedSetupLink(SetupLink Link, string Status);

/// <summary>
/// Creating, listing and revoking setup links: the one implementation, called by the management API
/// (<see cref="SetupLinkEndpoints"/>) and the operator console.
/// </summary>
public sealed class SetupLinkIssuer(SetupLinkStore store, ConnectionSetup connections, SsoOptions options, TimeProvider clock)
{
    public const int DefaultExpiresInHours = 72;
    public const int MaxExpiresInHours = 720;
    public const int MaxActiveLinksPerTenant = 50;
    private static readonly HashSet<string> Members = ["features", "expiresInHours"];

    /// <summary>Creates a link from the API's body (<c>features</c>, <c>expiresInHours</c>); <paramref name="createdBy"/> is the actor's id.</summary>
    public async Task<Result<IssuedSetupLink, Problem>> CreateAsync(Tenant tenant, JsonObject body, string? createdBy,
        CancellationToken cancellationToken)
    {
        var request = Validate(body);
        if (!request.IsSuccess) return request.Error;

        var now = clock.GetUtcNow();
        if ((await store.ListAsync(tenant.Id, cancellationToken)).Count(l => l.Status(now) == "active") >= MaxActiveLinksPerTenant)
            return Problem.Validation($"A tenant may have at most {MaxActiveLinksPerTenant} active setup links; revoke one first.");

        var (token, hash) = SetupToken.New(tenant.Id);
        var link = new SetupLink
        {
            Id = Ids.New("stl_"),
            TenantId = tenant.Id,
            Features = request.Value.Features,
            TokenHash = hash,
            CsrfKey = RandomNumberGenerator.GetBytes(32),
            CreatedAt = now,
            ExpiresAt = now.AddHours(request.Value.ExpiresInHours),
            CreatedBy = createdBy,
            TokenInFragment = true,
        };
        await store.CreateAsync(link, cancellationToken);
        return new IssuedSetupLink(link, PortalUrl(options, token));
    }

    /// <summary>The tenant's links, oldest first, each with its status now.</summary>
    public async Task<IReadOnlyList<ListedSetupLink>> ListAsync(TenantId tenantId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        return (await store.ListAsync(tenantId, cancellationToken)).Select(link => new ListedSetupLink(link, link.Status(now))).ToList();
    }

    /// <summary>The link's secret is in the fragment, which browsers never send: no request path or query carries it.</summary>
    public static string PortalUrl(SsoOptions options, string token) => options.Url("/setup#" + token);

    /// <summary>
    /// Revokes a link (again: no change) and disables what it created and nobody confirmed; the
    /// revoked link, or not-found.
    /// </summary>
    public async Task<Result<SetupLink, Problem>> RevokeAsync(TenantId tenantId, string linkId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (!Ids.HasShape(linkId, "stl_") || await store.FindAsync(tenantId, linkId, cancellationToken) is not { } link)
                return Problem.NotFound("setup link", linkId);
            if (link.RevokedAt is not null) return link;
            var revoked = link with { RevokedAt = now };
            switch (await store.ReplaceAsync(link, revoked, cancellationToken))
            {
                case SaveOutcome.Saved:
                    // Order: the link is dead first (it can create nothing more), then what it created unconfirmed is disabled.
                    await connections.DisableUnconfirmedAsync(tenantId, link.Id, cancellationToken);
                    return revoked;
                case SaveOutcome.NotFound: return Problem.NotFound("setup link", linkId);
            }
        }
        return Problem.Conflict("The setup link kept changing while it was revoked; retry the request.");
    }

    private sealed record CreateRequest(IReadOnlyList<string> Features, int ExpiresInHours);

    private static Result<CreateRequest, Problem> Validate(JsonObject body)
    {
        if (JsonMergePatch.FirstUnknownMember(body, Members) is { } unknown) return Problem.UnknownField(unknown);
        if (body["features"] is not JsonArray { Count: > 0 } array)
            return Problem.Validation("'features' must be a non-empty array of \"sso\" and/or \"dsync\".");
        var features = new List<string>();
        foreach (var item in array)
        {
            if (item is not JsonValue value || !value.TryGetValue<string>(out var feature) || !SetupFeatures.All.Contains(feature))
                return Problem.Validation("Each of 'features' must be \"sso\" or \"dsync\".");
            if (!features.Contains(feature)) features.Add(feature);
        }
        var hours = DefaultExpiresInHours;
        if (body["expiresInHours"] is { } node)
        {
            if (node is not JsonValue number || !number.TryGetValue<int>(out hours) || hours is < 1 or > MaxExpiresInHours)
                return Problem.Validation($"'expiresInHours' must be a whole number of hours from 1 to {MaxExpiresInHours}.");
        }
        return new CreateRequest(features, hours);
    }
}
