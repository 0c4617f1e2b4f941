using System.Globalization;
using Sso.Functions.Storage;

namespace Sso.Functions.Audit;

/// <summary>
/// <c>Audit:RetentionDays</c> (default 90; a tenant's <c>auditRetentionDays</c> setting overrides it)
/// <c>Audit:TableName</c> (default "audit") and <c>Audit:BatchWindowMilliseconds</c> (default 100:
/// how long <see cref="AuditWriter"/> collects rows before writing them).
/// </summary>
public sealed record AuditOptions(int RetentionDays, string TableName)
{
    public TimeSpan BatchWindow { get; init; } = TimeSpan.FromMilliseconds(100);

    public const int DefaultRetentionDays = 90;
    public const int MaxRetentionDays = 3650;

    public TimeSpan Retention => TimeSpan.FromDays(RetentionDays);

    public static AuditOptions From(IConfiguration configuration)
    {
        var days = DefaultRetentionDays;
        if (configuration["Audit:RetentionDays"] is { Length: > 0 } raw
            && (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out days) || days < 1 || days > MaxRetentionDays))
            throw new InvalidOperationException($"Audit:RetentionDays must be a whole number of days from 1 to {MaxRetentionDays}.");
        var window = 100;
        if (configuration["Audit:BatchWindowMilliseconds"] is { Length: > 0 } rawWindow
            && (!int.TryParse(rawWindow, NumberStyles.Integer, CultureInfo.InvariantCulture, out window) || window < 0 || window > 60_000))
            throw new InvalidOperationException("Audit:BatchWindowMilliseconds must be a whole number of milliseconds from 0 to 60000.");
        return new AuditOptions(days, configuration["Audit:TableName"] is { Length: > 0 } name ? name : TableNames.Audit)
        {
            BatchWindow = TimeSpan.FromMilliseconds(window),
        };
    }
}
