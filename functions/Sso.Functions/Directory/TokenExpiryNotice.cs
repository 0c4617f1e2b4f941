using System.Text.Json.Nodes;
using Sso.Functions.Outbox;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.DirectorySync;

/// <summary>
/// Daily: a <c>dsync.token.expiring</c> event for each SCIM token that expires within
/// <see cref="NoticePeriod"/>, once per token, so the SaaS team can ask the customer's IT admin
/// for a new token before the IdP's provisioning stops; and <c>dsync.token.expired</c> once it has.
/// </summary>
public static partial class TokenExpiryNotice
{
    public const string ExpiringEvent = "dsync.token.expiring";
    public const string ExpiredEvent = "dsync.token.expired";
    public static readonly TimeSpan NoticePeriod = TimeSpan.FromDays(7);
    public static readonly TimeSpan ExpiredLookBack = TimeSpan.FromDays(30);

    public static TimerFunction Function { get; } = new("DirectoryTokenExpiryNotice", "0 30 3 * * *", RunAsync);

    private static async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var noticed = await NotifyAsync(services.GetRequiredService<DirectoryRecordStore>(), services.GetRequiredService<TimeProvider>().GetUtcNow(),
            cancellationToken);
        if (noticed > 0) LogNoticed(services.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.DirectorySync"), noticed);
    }

    /// <returns>How many notices this run sent.</returns>
    public static async Task<int> NotifyAsync(DirectoryRecordStore store, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var noticed = 0;
        var tenants = new Dictionary<DirectoryId, TenantId?>();
        await foreach (var token in store.QueryTokensExpiringAsync(now, now + NoticePeriod, cancellationToken))
            if (token.ExpiringNotifiedAt is null
                && await SendAsync(store, tenants, token, token with { ExpiringNotifiedAt = now }, ExpiringEvent, now, cancellationToken))
                noticed++;
        // A token that expired since the last run (the timer may have missed days, hence the look-back).
        await foreach (var token in store.QueryTokensExpiringAsync(now - ExpiredLookBack, now, cancellationToken))
            if (token.ExpiredNotifiedAt is null
                && await SendAsync(store, tenants, token, token with { ExpiredNotifiedAt = now }, ExpiredEvent, now, cancellationToken))
                noticed++;
        return noticed;
    }

    private static async Task<bool> SendAsync(DirectoryRecordStore store, Dictionary<DirectoryId, TenantId?> tenants, DirectoryToken token,
        DirectoryToken marked, string type, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!tenants.TryGetValue(token.DirectoryId, out var tenantId))
            tenants[token.DirectoryId] = tenantId = (await store.FindDirectoryAsync(token.DirectoryId, cancellationToken))?.TenantId;
        if (tenantId is null) return false;  // the directory is being purged

        var notice = new EventRecord(EventRecord.NewId(now), type, tenantId.Value.Value, token.DirectoryId.Value, null, now,
            new JsonObject
            {
                ["tokenId"] = token.Id,
                ["name"] = token.Name,
                ["expiresAt"] = token.ExpiresAt!.Value.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            });
        // Stale or NotFound: a concurrent run marked it first, or the token was revoked meanwhile.
        return await store.MarkTokenNoticeAsync(token, marked, notice, cancellationToken) == SaveOutcome.Saved;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sent {Count} SCIM token expiry notices")]
    private static partial void LogNoticed(ILogger logger, int count);
}
