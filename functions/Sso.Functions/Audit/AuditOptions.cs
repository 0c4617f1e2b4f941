using System.Globalization;

namespace Sso.Functions.Audit;

/// <summary>
/// <c>Audit:RetentionDays</c> (default 90; a tenant's <c>auditRetentionDays</c> setting overrides it)
/// and <c>Audit:TableName</c> (default "audit").
/// </summary>
public sealed record AuditOptions(int RetentionDays, string TableName)
{
    public const int DefaultRetentionDays = 90;
    public const int MaxRetentionDays = 3650;

    public TimeSpan Retention => TimeSpan.FromDays(RetentionDays);

    public static AuditOptions From(IConfiguration configuration)
    {
        var days = DefaultRetentionDays;
        if (configuration["Audit:RetentionDays"] is { Length: > 0 } raw
            && (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out days) || days < 1 || days > MaxRetentionDays))
            throw new InvalidOperationException($"Audit:RetentionDays must be a whole number of days from 1 to {MaxRetentionDays}.");
        return new AuditOptions(days, configuration["Audit:TableName"] is { Length: > 0 } name ? name : "audit");
    }
}
