using System.Text.Json.Nodes;
using Sso.Functions.Connections;
using Sso.Functions.DirectorySync;
using Sso.Functions.Storage;

namespace Sso.Functions.Audit;

/// <summary>
/// What the features call to record an audit row. The row is handed to <see cref="AuditWriter"/>,
/// which writes it after the answer, batched; a failed write is logged (type, tenant and the
/// failure's kind; never the row) and swallowed: the audit trail never fails or delays the request
/// it describes, and a caller that hangs up right after its answer still leaves its row.
/// </summary>
public sealed class AuditLog(AuditWriter writer, TimeProvider clock)
{
    /// <summary>The id (never the value) of the SCIM token that authenticated the request.</summary>
    public const string ScimTokenIdItem = "AuditScimTokenId";

    /// <summary>
    /// A management change by <paramref name="actor"/> (an admin key, or a setup link of the portal).
    /// <paramref name="changedFields"/> are field names only; a value never goes into the trail.
    /// </summary>
    public Task RecordChangeAsync(string? tenantId, AuditActor actor, string action, AuditTarget? target,
        IReadOnlyList<string> changedFields, string result, string? reason = null, int? status = null)
    {
        var details = new JsonObject { ["changedFields"] = new JsonArray(changedFields.Select(f => (JsonNode?)f).ToArray()) };
        if (status is not null) details["status"] = status;
        return WriteAsync(AuditTypes.ManagementChange, tenantId ?? AuditRecord.GlobalPartition, actor, action, target, result, reason, details);
    }

    /// <summary>
    /// A sign-in attempt through a connection: <paramref name="result"/> is "success" or "failure";
    /// <paramref name="emailDomain"/> is the asserted email's domain, once the sign-in knows the identity.
    /// </summary>
    public Task RecordSignInAsync(TenantId tenantId, ConnectionId connectionId, ClientId? clientId,
        string result, string? reason, string? failureKind = null, string? emailDomain = null)
    {
        var details = new JsonObject
        {
            ["connectionId"] = connectionId.Value,
            ["clientId"] = clientId?.Value,
            ["emailDomain"] = emailDomain,
            ["failureKind"] = failureKind,
        };
        return WriteAsync(AuditTypes.SignInAttempt, tenantId.Value, AuditActor.Idp(connectionId.Value), "signin",
            new AuditTarget("connection", connectionId.Value), result, reason, details);
    }

    /// <summary>One SCIM request: method, path (query values withheld), status and duration; never a body or token.</summary>
    public Task RecordScimRequestAsync(TenantId tenantId, DirectoryId directoryId, string? tokenId, string method, string path,
        int status, double durationMs, string? reason)
    {
        var details = new JsonObject
        {
            ["directoryId"] = directoryId.Value,
            ["method"] = method,
            ["path"] = path,
            ["status"] = status,
            ["durationMs"] = Math.Round(durationMs, 1),
        };
        return WriteAsync(AuditTypes.ScimRequest, tenantId.Value,
            tokenId is null ? AuditActor.Idp("unauthenticated") : AuditActor.Idp(tokenId), method + " " + ScimResourceOf(path),
            new AuditTarget("directory", directoryId.Value), status < 400 ? "success" : "failure", reason, details);
    }

    /// <summary>"Users", "Groups", "ServiceProviderConfig"... : the segment after the directory id.</summary>
    private static string ScimResourceOf(string path)
    {
        var segments = path.Split('?')[0].Split('/', StringSplitOptions.RemoveEmptyEntries);
        return segments.Length > 3 ? segments[3] : "";
    }

    private Task WriteAsync(string type, string partition, AuditActor actor, string action, AuditTarget? target,
        string result, string? reason, JsonObject details)
    {
        var now = clock.GetUtcNow();
        writer.Post(new AuditRecord(AuditRecord.NewId(now), type, partition, now, actor, action, target, result, reason, details));
        return Task.CompletedTask;
    }
}
