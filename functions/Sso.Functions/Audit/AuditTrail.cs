using System.Globalization;
using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;

namespace Sso.Functions.Audit;

/// <summary>What a page of the audit trail asks for; <see cref="AuditTrail.ParseQuery"/> checks it.</summary>
/// <param name="Since">Rows that occurred at or after it.</param>
/// <param name="Until">Rows that occurred before it.</param>
public sealed record AuditQuery(string? Type, string? Result, DateTimeOffset? Since, DateTimeOffset? Until, string? After, int Limit);

public sealed record AuditPage(IReadOnlyList<JsonObject> Rows, string? NextCursor);

/// <summary>
/// Reading the audit trail, for the management API and the operator console alike: the query's
/// checks (with the API's messages) and the page. No HTTP.
/// </summary>
public sealed class AuditTrail(AuditStore store, TenantStore tenants)
{
    public const int DefaultLimit = 50;

    public static readonly IReadOnlyList<string> Results = ["success", "failure"];

    /// <summary>Checks the raw parameters; empty or null means "not given".</summary>
    public static Result<AuditQuery, Problem> ParseQuery(string? type, string? after, string? limit,
        string? result = null, string? since = null, string? until = null)
    {
        var pageSize = DefaultLimit;
        if (limit is { Length: > 0 } && (!int.TryParse(limit, out pageSize) || pageSize < 1 || pageSize > AuditStore.MaxPageSize))
            return Problem.Validation($"'limit' must be an integer from 1 to {AuditStore.MaxPageSize}.");
        var wantedType = type is { Length: > 0 } ? type : null;
        if (wantedType is not null && !AuditTypes.All.Contains(wantedType))
            return Problem.Validation($"'type' must be one of {string.Join(", ", AuditTypes.All)}.");
        var cursor = after is { Length: > 0 } ? after : null;
        if (cursor is not null && !AuditRecord.IsId(cursor))
            return Problem.Validation("'after' must be a cursor (nextCursor) returned by this endpoint.");
        var wantedResult = result is { Length: > 0 } ? result : null;
        if (wantedResult is not null && !Results.Contains(wantedResult))
            return Problem.Validation($"'result' must be one of {string.Join(", ", Results)}.");
        DateTimeOffset? from = null, to = null;
        if (since is { Length: > 0 })
        {
            if (!TryParseTime(since, out var parsed)) return Problem.Validation("'since' must be a date or an ISO 8601 time.");
            from = parsed;
        }
        if (until is { Length: > 0 })
        {
            if (!TryParseTime(until, out var parsed)) return Problem.Validation("'until' must be a date or an ISO 8601 time.");
            to = parsed;
        }
        return new AuditQuery(wantedType, wantedResult, from, to, cursor, pageSize);
    }

    private static bool TryParseTime(string raw, out DateTimeOffset at) =>
        DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out at)
        && at.Year is >= 2000 and <= 9000;

    /// <summary>The tenant whose trail is asked for; an unknown (or deleted) tenant is a 404 problem.</summary>
    public async Task<Result<TenantId, Problem>> FindTenantAsync(string rawTenantId, CancellationToken cancellationToken) =>
        TenantId.TryParse(rawTenantId, out var tenantId) && await tenants.FindAsync(tenantId, cancellationToken) is not null
            ? tenantId
            : Problem.NotFound("tenant", rawTenantId);

    /// <summary>A page of a tenant's trail.</summary>
    public Task<AuditPage> ReadAsync(TenantId tenantId, AuditQuery query, CancellationToken cancellationToken) =>
        ReadAsync(tenantId.Value, query, cancellationToken);

    /// <summary>A page of the partition of changes that belong to no tenant.</summary>
    public Task<AuditPage> ReadGlobalAsync(AuditQuery query, CancellationToken cancellationToken) =>
        ReadAsync(AuditRecord.GlobalPartition, query, cancellationToken);

    private async Task<AuditPage> ReadAsync(string partition, AuditQuery query, CancellationToken cancellationToken)
    {
        var (rows, next) = await store.ReadAsync(partition, query, cancellationToken);
        return new AuditPage(rows, next);
    }
}
