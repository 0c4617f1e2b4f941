namespace Sso.Functions.Storage;

/// <summary>
/// Every table the app uses, without the configured prefix. Stores, sweeps and the outbox name
/// tables only through these, so renaming a table cannot leave a sweep reading the old one.
/// </summary>
public static class TableNames
{
    public const string Tenants = "tenants";
    public const string Domains = "domains";
    public const string Connections = "connections";
    public const string Directory = "directory";
    public const string Clients = "clients";
    public const string PendingSignIns = "pendingsignins";
    public const string AuthorizationCodes = "authorizationcodes";
    public const string AccessTokens = "accesstokens";
    public const string SignInSessions = "signinsessions";
    public const string SamlAssertions = "samlassertions";
    public const string SignIns = "signins";
    public const string SetupLinks = "setuplinks";
    public const string Webhooks = "webhooks";
    public const string WebhookDeliveries = "webhookdeliveries";
    public const string EventFeed = "eventfeed";
    public const string DeprovisionHolds = "deprovisionholds";
    public const string ConsoleSessions = "consolesessions";

    /// <summary>The default of <c>Audit:TableName</c>.</summary>
    public const string Audit = "audit";

    public static bool IsValidPrefix(string prefix) =>
        prefix.Length is >= 1 and <= 20 && char.IsAsciiLetter(prefix[0]) && prefix.All(char.IsAsciiLetterOrDigit);
}
