namespace Sso.Functions.Storage;

/// <summary>
/// Where tables and queues live. Locally a connection string (Azurite); in Azure the service
/// URIs and the managed identity (shared-key access is off on the account).
/// </summary>
public sealed record StorageOptions(
    string? ConnectionString,
    Uri? TableServiceUri,
    Uri? QueueServiceUri,
    string TablePrefix)
{
    /// <summary>
    /// Whether a table found missing at run time is created again (<see cref="RecreateMissingPolicy"/>).
    /// Off for a deployment whose identity may not create tables (they are created by the
    /// deployment), and for tests that need a table to stay missing.
    /// </summary>
    public bool RecreateMissingTables { get; init; } = true;

    public static StorageOptions From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Storage");
        var prefix = section["TablePrefix"] is { Length: > 0 } p ? p : "sso";
        if (!TableNames.IsValidPrefix(prefix))
            throw new InvalidOperationException("Storage:TablePrefix must be 1-20 letters and digits, starting with a letter.");
        return new StorageOptions(
            section["ConnectionString"] is { Length: > 0 } cs ? cs : null,
            section["TableServiceUri"] is { Length: > 0 } t ? new Uri(t) : null,
            section["QueueServiceUri"] is { Length: > 0 } q ? new Uri(q) : null,
            prefix.ToLowerInvariant())
        {
            RecreateMissingTables = !string.Equals(section["RecreateMissingTables"], "false", StringComparison.OrdinalIgnoreCase),
        };
    }
}
