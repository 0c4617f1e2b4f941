using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Tenants;

public sealed record Tenant(
    TenantId Id,
    string Name,
    IReadOnlyList<string> Domains,
    TenantSettings Settings,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    ETag ETag = default)
{
    public const string RowKey = "tenant";

    public TableEntity ToEntity() => new(Id.Value, RowKey)
    {
        ["Name"] = Name,
        ["Domains"] = JsonSerializer.Serialize(Domains.ToArray(), SsoJsonContext.Default.StringArray),
        ["Settings"] = JsonSerializer.Serialize(Settings, SsoJsonContext.Default.TenantSettings),
        ["CreatedAt"] = CreatedAt,
        ["UpdatedAt"] = UpdatedAt,
    };

    public static Tenant FromEntity(TableEntity entity) => new(
        new TenantId(entity.PartitionKey),
        entity.GetString("Name"),
        JsonSerializer.Deserialize(entity.GetString("Domains"), SsoJsonContext.Default.StringArray) ?? [],
        JsonSerializer.Deserialize(entity.GetString("Settings"), SsoJsonContext.Default.TenantSettings) ?? TenantSettings.Default,
        entity.GetDateTimeOffset("CreatedAt") ?? default,
        entity.GetDateTimeOffset("UpdatedAt") ?? default,
        entity.ETag);

    public TenantView ToView() => new(Id.Value, Name, Domains.ToArray(), Settings, CreatedAt, UpdatedAt);
}

/// <summary>A tenant as the management API shows it.</summary>
public sealed record TenantView(
    string Id, string Name, string[] Domains, TenantSettings Settings, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record TenantList(TenantView[] Data, string? NextCursor);

/// <summary>The body of POST /api/v1/tenants; unknown fields are refused.</summary>
public sealed class CreateTenantRequest
{
    public string? Name { get; init; }
    public string[]? Domains { get; init; }
    public TenantSettings? Settings { get; init; }
}

/// <summary>What a merge-patched tenant must deserialize into before it is validated.</summary>
public sealed class TenantPatchTarget
{
    public string? Name { get; init; }
    public string[]? Domains { get; init; }
    public TenantSettings? Settings { get; init; }
}
