using System.Text.Json.Nodes;
using Sso.Functions.Audit;
using Sso.Functions.Connections;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;

namespace Sso.Functions.Setup;

/// <summary>Why a wizard step changed nothing: the admin's input (a 422 page) or a conflicting change (409).</summary>
public sealed record SetupRefusal(bool IsConflict, string Message)
{
    public static SetupRefusal Invalid(string message) => new(false, message);
    public static SetupRefusal Conflict(string message) => new(true, message);
}

/// <summary>What the single sign-on form sent; a SAML IdP fills the metadata fields, an OIDC one the others.</summary>
public sealed record SetupSsoForm(string MetadataUrl, string MetadataXml, string Issuer, string ClientId, string ClientSecret,
    bool AllowUnverifiedEmail);

/// <summary>What the single sign-on step shows besides the link: the guide, the saved connection and whether it may vouch for no domain.</summary>
public sealed record SetupSsoPage(IdpGuides.Guide Guide, Connection? Connection, bool AssertsNothing, DateTimeOffset Now);

/// <summary>The status step: a null list is a section the link does not include.</summary>
public sealed record SetupStatus(IReadOnlyList<Connection>? Connections, IReadOnlyList<SetupPages.DirectoryStatus>? Directories,
    IReadOnlyList<JsonObject>? SignIns, IReadOnlyList<JsonObject>? ScimRequests, DateTimeOffset Now);

/// <summary>A SCIM token shown once on the directory step, and the link as saved (it may now point at a new directory).</summary>
public sealed record SetupScimToken(SetupLink Link, string Plaintext);

/// <summary>The Google Workspace authorization link for the customer's Google admin, and the link as saved.</summary>
public sealed record SetupGoogleAuthorization(SetupLink Link, string Url);

/// <summary>
/// The setup portal's steps without HTTP (<see cref="SetupPortalEndpoints"/> is the adapter): each
/// takes the open link (its tenant is the session's) and typed input, changes connections and
/// directories through the same operations as the management API (<see cref="ConnectionSetup"/>,
/// <see cref="DirectoryProvisioning"/>) with the link as the audit actor, and returns the link as
/// saved or the page model; a refusal changes nothing.
/// </summary>
public sealed class SetupPortal(SetupLinkStore links, ConnectionStore connections, ConnectionSetup connectionSetup,
    DirectoryProvisioning provisioning, DirectoryRecordStore directories, DirectoryUserStore users, DirectoryGroupStore groups,
    AuditStore audit, AuditLog auditLog, SsoOptions options, TimeProvider clock)
{
    private const string PortalTokenName = "setup portal";
    private const int RecentActivityRows = 50;

    // The status page counts rows; past this it says "10000+" rather than read a huge directory.
    private const int MaxCounted = 10_000;

    /// <summary>The service's public URLs, which the pages show for pasting into the IdP.</summary>
    public SsoOptions Options => options;

    /// <summary>Step 1: records the chosen IdP (and, for SAML, reserves the connection id its URLs name).</summary>
    public async Task<Result<SetupLink, SetupRefusal>> ChooseIdpAsync(SetupLink link, string idp, CancellationToken cancellationToken)
    {
        if (IdpGuides.Find(idp) is not { } guide) return SetupRefusal.Invalid("Choose one of the identity providers.");
        if (link.ConnectionId is { } saved
            && await connections.FindAsync(link.TenantId, saved, cancellationToken) is { } existing
            && existing.Type != guide.Protocol)
            return SetupRefusal.Conflict(
                $"This link already has a connection of type {existing.Type.ToUpperInvariant()}; choose an identity provider that uses {existing.Type.ToUpperInvariant()}, or ask for a new link.");
        var chosen = await links.UpdateAsync(link, l => l with
        {
            Idp = guide.Id,
            // The SAML URLs depend on the connection id, and the admin pastes them into the IdP
            // before there is metadata to create the connection from: reserve the id now.
            ConnectionId = l.ConnectionId ?? (guide.Protocol == "saml" ? ConnectionId.New() : null),
        }, cancellationToken);
        return chosen is null ? SetupRefusal.Conflict("The setup changed in another window; choose again.") : chosen;
    }

    /// <summary>Step 2's model: the link's connection, if saved; null when the link has chosen no IdP yet.</summary>
    public async Task<SetupSsoPage?> SsoPageAsync(SetupLink link, CancellationToken cancellationToken)
    {
        if (IdpGuides.Find(link.Idp) is not { } guide) return null;
        var connection = link.ConnectionId is { } connectionId
            ? await connections.FindAsync(link.TenantId, connectionId, cancellationToken)
            : null;
        var assertsNothing = connection is not null
            && ConnectionDomains.AssertsNothing(connection, await connections.ListAsync(link.TenantId, cancellationToken));
        return new SetupSsoPage(guide, connection, assertsNothing, clock.GetUtcNow());
    }

    /// <summary>Step 2: creates the link's connection of the chosen IdP's protocol, or updates it; the link as saved.</summary>
    public async Task<Result<SetupLink, SetupRefusal>> SaveSsoAsync(Tenant tenant, SetupLink link, IdpGuides.Guide guide, SetupSsoForm form,
        CancellationToken cancellationToken)
    {
        var body = new JsonObject();
        if (guide.Protocol == "saml")
        {
            var url = form.MetadataUrl.Trim();
            var xml = form.MetadataXml.Trim();
            if (url.Length > 0 && xml.Length > 0) return SetupRefusal.Invalid("Give either the metadata URL or the metadata XML, not both.");
            if (url.Length > 0) body["idpMetadataUrl"] = url;
            else if (xml.Length > 0) body["idpMetadataXml"] = xml;
            else return SetupRefusal.Invalid("Paste the IdP metadata URL or the metadata XML.");
        }
        else
        {
            foreach (var (member, value) in new[] { ("issuer", form.Issuer), ("clientId", form.ClientId), ("clientSecret", form.ClientSecret) })
                if (value.Trim() is { Length: > 0 } trimmed) body[member] = trimmed;
            body["allowUnverifiedEmail"] = form.AllowUnverifiedEmail;
        }

        var existing = link.ConnectionId is { } id ? await connections.FindAsync(tenant.Id, id, cancellationToken) : null;
        if (existing is not null && existing.Type != guide.Protocol)
            return SetupRefusal.Conflict(
                $"This link already has a connection of type {existing.Type.ToUpperInvariant()}; ask for a new link to switch protocols.");

        Result<Connection, Problem> saved;
        if (existing is null)
        {
            body["type"] = guide.Protocol;
            body["name"] = guide.Name + " (setup portal)";
            saved = await connectionSetup.CreateAsync(tenant, body, cancellationToken,
                guide.Protocol == "saml" ? link.ConnectionId : null, setupLinkId: link.Id);
        }
        else
        {
            saved = await connectionSetup.UpdateAsync(tenant.Id, existing.Id, body, cancellationToken);
        }
        var action = existing is null ? "connection.create" : "connection.update";
        var changedFields = body.Select(member => member.Key).ToArray();
        if (!saved.IsSuccess)
        {
            await RecordChangeAsync(link, action, existing?.Id.Value ?? link.ConnectionId?.Value, changedFields, "failure", saved.Error.Code);
            return SetupRefusal.Invalid(saved.Error.Detail);
        }
        var connection = saved.Value;
        await RecordChangeAsync(link, action, connection.Id.Value, changedFields, "success", null);
        if (link.ConnectionId == connection.Id) return link;
        return await links.UpdateAsync(link, l => l with { ConnectionId = connection.Id }, cancellationToken) is { } pointed
            ? pointed
            : SetupRefusal.Conflict("The setup changed in another window; reload the page.");
    }

    /// <summary>
    /// Step 3 with SCIM: the link's directory with its first token, made on first use, or one more
    /// token for it; the plaintext is for this answer only.
    /// </summary>
    public async Task<Result<SetupScimToken, SetupRefusal>> IssueScimTokenAsync(SetupLink link, CancellationToken cancellationToken)
    {
        var directory = await FindLinkDirectoryAsync(link, cancellationToken);
        if (directory is null || directory.TenantId != link.TenantId)
        {
            var guide = IdpGuides.Find(link.Idp);
            // Order: the directory (with its first token), then the link row that points at it;
            // a failure in between leaves a directory that the management API still lists.
            var created = await provisioning.CreateWithTokenAsync(link.TenantId, (guide?.Name ?? "Directory") + " (setup portal)",
                guide?.DirectoryProvider ?? "generic", PortalTokenName, SetupActor(link), cancellationToken);
            if (!created.IsSuccess) return SetupRefusal.Invalid(created.Error.Detail);
            var (made, _, plaintext) = created.Value;
            await RecordChangeAsync(link, "directory.create", made.Id.Value, ["name", "provider"], "success", null);
            var saved = await links.UpdateAsync(link, l => l with { DirectoryId = made.Id }, cancellationToken);
            return saved is null
                ? SetupRefusal.Conflict("The setup changed in another window; reload the page.")
                : new SetupScimToken(saved, plaintext);
        }
        // Named and without expiry, a token fails only for the directory's token limit.
        var issued = await provisioning.CreateTokenAsync(directory.Id, PortalTokenName, null, SetupActor(link), cancellationToken);
        if (!issued.IsSuccess)
            return SetupRefusal.Invalid(
                $"The directory already has {DirectoryProvisioning.MaxTokensPerDirectory} tokens; ask your vendor to revoke unused ones.");
        await RecordChangeAsync(link, "directory_token.create", directory.Id.Value, ["name"], "success", null);
        return new SetupScimToken(link, issued.Value.Plaintext);
    }

    /// <summary>
    /// Step 3 with Google Workspace (pulled through the Directory API): the link's Google directory,
    /// made once, and a fresh authorization link for the customer's Google admin.
    /// </summary>
    public async Task<Result<SetupGoogleAuthorization, SetupRefusal>> AuthorizeGoogleDirectoryAsync(SetupLink link,
        CancellationToken cancellationToken)
    {
        if (provisioning.AuthorizationOf(DirectoryProviders.GoogleDirectory) is not { Unavailable: null } authorization)
            return SetupRefusal.Invalid("Google Workspace sync is not set up by your vendor; use SCIM, or ask them.");
        var directory = await FindLinkDirectoryAsync(link, cancellationToken);
        if (directory is null || directory.TenantId != link.TenantId || directory.Provider != DirectoryProviders.GoogleDirectory)
        {
            var created = await provisioning.CreatePulledAsync(link.TenantId, "Google Workspace (setup portal)", authorization, cancellationToken);
            if (!created.IsSuccess) return SetupRefusal.Invalid(created.Error.Detail);
            directory = created.Value.Directory;
            await RecordChangeAsync(link, "directory.create", directory.Id.Value, ["name", "provider"], "success", null);
            var createdId = directory.Id;
            var saved = await links.UpdateAsync(link, l => l with { DirectoryId = createdId }, cancellationToken);
            if (saved is null) return SetupRefusal.Conflict("The setup changed in another window; reload the page.");
            link = saved;
        }
        return new SetupGoogleAuthorization(link, await authorization.StartAsync(directory, cancellationToken));
    }

    /// <summary>
    /// Step 4: the tenant's connections and directories (with their token, user and group counts)
    /// and its last sign-in attempts and SCIM requests from the audit trail, with their reasons, so
    /// the IT admin can see why Okta's push or a colleague's sign-in failed without a support ticket.
    /// </summary>
    public async Task<SetupStatus> StatusAsync(SetupLink link, CancellationToken cancellationToken)
    {
        IReadOnlyList<Connection>? connectionList = null;
        List<SetupPages.DirectoryStatus>? directoryList = null;
        IReadOnlyList<JsonObject>? signIns = null, scimRequests = null;
        if (link.Has(SetupFeatures.Sso))
            connectionList = await connections.ListAsync(link.TenantId, cancellationToken);
        if (link.Has(SetupFeatures.DirectorySync))
        {
            directoryList = [];
            foreach (var directory in await directories.ListDirectoriesOfTenantAsync(link.TenantId, cancellationToken))
            {
                var tokens = await directories.ListTokensAsync(directory.Id, cancellationToken);
                var userCount = await CountAsync(users.QueryUsersAsync(directory.Id, includeDeleted: false, cancellationToken));
                var groupCount = await CountAsync(groups.QueryGroupsAsync(directory.Id, cancellationToken));
                directoryList.Add(new SetupPages.DirectoryStatus(directory, tokens.Count, tokens.Max(t => t.LastUsedAt), userCount, groupCount));
            }
        }
        if (link.Has(SetupFeatures.Sso))
            (signIns, _) = await audit.ReadAsync(link.TenantId.Value, AuditTypes.SignInAttempt, null, RecentActivityRows, cancellationToken);
        if (link.Has(SetupFeatures.DirectorySync))
            (scimRequests, _) = await audit.ReadAsync(link.TenantId.Value, AuditTypes.ScimRequest, null, RecentActivityRows, cancellationToken);
        return new SetupStatus(connectionList, directoryList, signIns, scimRequests, clock.GetUtcNow());
    }

    private static async Task<string> CountAsync<T>(IAsyncEnumerable<T> rows)
    {
        var count = 0;
        await foreach (var _ in rows)
            if (++count >= MaxCounted) return MaxCounted + "+";
        return count.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The directory the link created, if it did and it still exists.</summary>
    private async Task<DirectoryRecord?> FindLinkDirectoryAsync(SetupLink link, CancellationToken cancellationToken) =>
        link.DirectoryId is { } id ? await directories.FindDirectoryAsync(id, cancellationToken) : null;

    private static string SetupActor(SetupLink link) => "setup_link:" + link.Id;

    /// <summary>A change made through the portal, in the audit trail with the setup link as the actor.</summary>
    private Task RecordChangeAsync(SetupLink link, string action, string? connectionOrDirectoryId, IReadOnlyList<string> changedFields,
        string result, string? reason)
    {
        var kind = action.StartsWith("connection", StringComparison.Ordinal) ? "connection" : "directory";
        return auditLog.RecordChangeAsync(link.TenantId.Value, AuditActor.SetupLink(link.Id), action,
            connectionOrDirectoryId is null ? null : new AuditTarget(kind, connectionOrDirectoryId), changedFields, result, reason);
    }
}
