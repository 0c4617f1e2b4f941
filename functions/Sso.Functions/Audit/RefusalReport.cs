using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Audit;

/// <summary>The window of a refusal report: the last <paramref name="Hours"/> hours, the current one included.</summary>
public sealed record RefusalQuery(int Hours);

/// <summary>The counted refusals per hour, reason and connection, newest hour first, and their sum.</summary>
public sealed record RefusalCounts(IReadOnlyList<JsonObject> Rows, long Total);

/// <summary>
/// Reading the counted refusals of anonymous traffic (<see cref="RefusalCounter"/>) for the
/// management API: the window's check (with the API's message) and the counts. No HTTP.
/// </summary>
public sealed class RefusalReport(RefusalCounter counter, RefusalCountStore store, TimeProvider clock)
{
    public const int DefaultHours = 24;
    public const int MaxHours = 24 * 31;

    /// <summary>Checks the raw <c>hours</c> parameter; empty or null means the default.</summary>
    public static Result<RefusalQuery, Problem> ParseQuery(string? hours)
    {
        var window = DefaultHours;
        if (hours is { Length: > 0 } && (!int.TryParse(hours, out window) || window < 1 || window > MaxHours))
            return Problem.Validation($"'hours' must be an integer from 1 to {MaxHours}.");
        return new RefusalQuery(window);
    }

    /// <summary>A tenant's counts.</summary>
    public Task<RefusalCounts> ReadAsync(TenantId tenantId, RefusalQuery query, CancellationToken cancellationToken) =>
        ReadAsync(tenantId.Value, query, cancellationToken);

    /// <summary>The counts of refusals that belong to no tenant.</summary>
    public Task<RefusalCounts> ReadGlobalAsync(RefusalQuery query, CancellationToken cancellationToken) =>
        ReadAsync(AuditRecord.GlobalPartition, query, cancellationToken);

    private async Task<RefusalCounts> ReadAsync(string partition, RefusalQuery query, CancellationToken cancellationToken)
    {
        // This instance's counts first, so a read right after a flood sees it; other instances' within a flush interval.
        await counter.FlushAsync(cancellationToken);
        var since = clock.GetUtcNow().AddHours(-(query.Hours - 1));
        var rows = await store.ReadAsync(partition, since, cancellationToken);
        return new RefusalCounts(rows, rows.Sum(r => r["count"]!.GetValue<long>()));
    }
}
