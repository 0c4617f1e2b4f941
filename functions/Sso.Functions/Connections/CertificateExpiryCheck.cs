using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Sso.Functions.Outbox;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Protocols.Saml;

namespace Sso.Functions.Connections;

/// <summary>
/// IdP signing certificates that expire within <see cref="CertificateExpiry.DefaultWindow"/>: shown on
/// every connection view (<c>certificates</c>, <c>warnings</c>) and announced once per certificate
/// by a daily timer as <c>connection.certificate_expiring</c>. OIDC connections have no certificate
/// to watch: their keys come from the IdP's JWKS, which the IdP rotates itself.
/// </summary>
public static partial class CertificateExpiryCheck
{
    public const string ExpiringEvent = "connection.certificate_expiring";

    public static TimerFunction Function { get; } = new("ConnectionCertificateExpiry", "0 30 4 * * *", RunAsync);

    public static IReadOnlyList<CertificateStatus> Statuses(Connection connection, DateTimeOffset now)
    {
        if (connection.Type != ConnectionTypes.Saml) return [];
        var certificates = connection.IdpCertificates();
        try
        {
            return CertificateExpiry.Check(certificates, now, CertificateExpiry.DefaultWindow);
        }
        finally
        {
            foreach (var certificate in certificates) certificate.Dispose();
        }
    }

    /// <summary>Adds <c>certificates</c> and <c>warnings</c> to a connection's management view.</summary>
    public static void Describe(JsonObject view, Connection connection, DateTimeOffset now)
    {
        var statuses = Statuses(connection, now);
        view["certificates"] = new JsonArray(statuses.Select(s => (JsonNode?)new JsonObject
        {
            ["thumbprint"] = s.Thumbprint,
            ["subject"] = s.Subject,
            ["notAfter"] = s.NotAfter.ToString("O"),
            ["expiresSoon"] = s.ExpiresSoon,
            ["expired"] = s.Expired,
        }).ToArray());
        view["warnings"] = new JsonArray(CertificateExpiry.Warnings(statuses).Select(w => (JsonNode?)w).ToArray());
    }

    private static async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var announced = await AnnounceAsync(services.GetRequiredService<ConnectionStore>(), services.GetRequiredService<OutboxPublisher>(),
            services.GetRequiredService<TimeProvider>().GetUtcNow(), cancellationToken);
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.Connections");
        foreach (var notice in announced) LogExpiring(logger, notice.TenantId, notice.ConnectionId!);
    }

    /// <returns>The events announced in this run (a certificate announced before is skipped).</returns>
    public static async Task<IReadOnlyList<EventRecord>> AnnounceAsync(ConnectionStore store, OutboxPublisher publisher, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var announced = new List<EventRecord>();
        await foreach (var connection in store.ListAllAsync(cancellationToken))
        {
            foreach (var status in Statuses(connection, now).Where(s => s.ExpiresSoon))
            {
                var notice = new EventRecord(EventRecord.NewId(now), ExpiringEvent, connection.TenantId.Value, null, connection.Id.Value, now,
                    new JsonObject
                    {
                        ["connectionId"] = connection.Id.Value,
                        ["thumbprint"] = status.Thumbprint,
                        ["notAfter"] = status.NotAfter.ToString("O"),
                        ["expired"] = status.Expired,
                        ["daysLeft"] = (int)Math.Floor((status.NotAfter - now).TotalDays),
                    });
                // The mark and the outbox row commit together; a crash before the publish leaves the
                // outbox row for OutboxSweep, never a mark without its event.
                if (await store.RecordCertificateNoticeAsync(connection, status.Thumbprint, notice, cancellationToken) != SaveOutcome.Saved)
                    continue;
                publisher.Post(ConnectionStore.TableName, connection.TenantId.Value, [notice]);
                announced.Add(notice);
            }
        }
        return announced;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "An IdP signing certificate expires soon (tenant {TenantId}, connection {ConnectionId})")]
    private static partial void LogExpiring(ILogger logger, string tenantId, string connectionId);
}
