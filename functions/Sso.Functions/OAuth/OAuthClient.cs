using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.OAuth;

/// <summary>The SaaS application as a confidential OAuth client of this service.</summary>
public sealed record OAuthClient(
    ClientId Id,
    string Name,
    IReadOnlyList<string> RedirectUris,
    byte[] SecretHash,
    DateTimeOffset CreatedAt,
    ETag ETag = default)
{
    public const string RowKey = "client";

    /// <summary>RP-Initiated Logout §3.1: where the client may be sent after logout; matched exactly.</summary>
    public IReadOnlyList<string> PostLogoutRedirectUris { get; init; } = [];

    public TableEntity ToEntity() => new(Id.Value, RowKey)
    {
        ["Name"] = Name,
        ["RedirectUris"] = JsonSerializer.Serialize(RedirectUris.ToArray(), SsoJsonContext.Default.StringArray),
        ["PostLogoutRedirectUris"] = JsonSerializer.Serialize(PostLogoutRedirectUris.ToArray(), SsoJsonContext.Default.StringArray),
        ["SecretHash"] = Convert.ToHexStringLower(SecretHash),
        ["CreatedAt"] = CreatedAt,
    };

    public static OAuthClient FromEntity(TableEntity entity) => new(
        new ClientId(entity.PartitionKey),
        entity.GetString("Name"),
        JsonSerializer.Deserialize(entity.GetString("RedirectUris"), SsoJsonContext.Default.StringArray) ?? [],
        Convert.FromHexString(entity.GetString("SecretHash")),
        entity.GetDateTimeOffset("CreatedAt") ?? default,
        entity.ETag)
    {
        PostLogoutRedirectUris = entity.GetString("PostLogoutRedirectUris") is { } uris
            ? JsonSerializer.Deserialize(uris, SsoJsonContext.Default.StringArray) ?? []
            : [],
    };

    /// <summary>RFC 6749 §3.1.2.3: the redirect URI must match a registered one exactly.</summary>
    public bool HasRedirectUri(string? redirectUri) =>
        redirectUri is not null && RedirectUris.Contains(redirectUri, StringComparer.Ordinal);

    public bool HasPostLogoutRedirectUri(string? uri) =>
        uri is not null && PostLogoutRedirectUris.Contains(uri, StringComparer.Ordinal);

    public bool SecretMatches(string? presented) =>
        presented is { Length: > 0 and <= 512 }
        && CryptographicOperations.FixedTimeEquals(HashSecret(presented), SecretHash);

    public static byte[] HashSecret(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    public static string NewSecret() => "sso_cs_" + Base64Url.Encode(RandomNumberGenerator.GetBytes(32));

    public ClientView ToView() => new(Id.Value, Name, RedirectUris.ToArray(), PostLogoutRedirectUris.ToArray(), CreatedAt);
}

public static class Base64Url
{
    public static string Encode(ReadOnlySpan<byte> bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);
}

public sealed class CreateClientRequest
{
    public string? Name { get; init; }
    public string[]? RedirectUris { get; init; }
    public string[]? PostLogoutRedirectUris { get; init; }
}

public sealed record ClientView(string ClientId, string Name, string[] RedirectUris, string[] PostLogoutRedirectUris, DateTimeOffset CreatedAt);

/// <summary>The only response that ever carries the client secret.</summary>
public sealed record CreatedClient(string ClientId, string ClientSecret, string Name, string[] RedirectUris, string[] PostLogoutRedirectUris,
    DateTimeOffset CreatedAt);
