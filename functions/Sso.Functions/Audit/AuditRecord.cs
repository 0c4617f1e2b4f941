using System.Globalization;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.Audit;

/// <summary>The three kinds of audit row.</summary>
public static class AuditTypes
{
    public const string ManagementChange = "management.change";
    public const string SignInAttempt = "signin.attempt";
    public const string ScimRequest = "scim.request";

    public static readonly IReadOnlyList<string> All = [ManagementChange, SignInAttempt, ScimRequest];
}

/// <summary>
/// Who did it: <c>admin_key</c> (a key id, a hash prefix), <c>setup_link</c>, <c>idp</c>, <c>system</c>, or
/// <c>operator</c> (someone signed in to the operator console: the admin key id they signed in with, or their OpenID Connect email).
/// </summary>
public sealed record AuditActor(string Kind, string Id)
{
    public static AuditActor AdminKey(string keyId) => new("admin_key", keyId);
    public static AuditActor SetupLink(string setupLinkId) => new("setup_link", setupLinkId);
    public static AuditActor Idp(string id) => new("idp", id);
    public static AuditActor System(string id) => new("system", id);
    public static AuditActor Operator(string id) => new("operator", id);
}

public sealed record AuditTarget(string Kind, string Id);

/// <summary>
/// One row of the audit trail. Its id sorts newest first: the clock's ticks and a process-wide
/// sequence are stored inverted, then a little randomness keeps ids of one instant apart.
/// <see cref="Details"/> holds the kind's own facts (method, path, status, reason...) and never a
/// secret, a body or an assertion: every caller builds it from ids, names and codes only.
/// </summary>
public sealed record AuditRecord(
    string Id,
    string Type,
    string Partition,
    DateTimeOffset OccurredAt,
    AuditActor Actor,
    string Action,
    AuditTarget? Target,
    string Result,
    string? Reason,
    JsonObject Details)
{
    public const string IdPrefix = "aud_";

    /// <summary>The partition of changes that belong to no tenant (clients, global webhooks, dead letters).</summary>
    public const string GlobalPartition = "_global";

    private const int SequenceDigits = 10;
    private const long SequenceModulus = 10_000_000_000L;
    private static long _sequence;

    public static string NewId(DateTimeOffset now)
    {
        var sequence = Interlocked.Increment(ref _sequence) % SequenceModulus;
        return IdPrefix + InvertedTicks(now)
               + (SequenceModulus - 1 - sequence).ToString("D" + SequenceDigits, CultureInfo.InvariantCulture)
               + Ids.New("")[..6];
    }

    /// <summary>19 digits that sort descending with time.</summary>
    public static string InvertedTicks(DateTimeOffset at) =>
        (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("D19", CultureInfo.InvariantCulture);

    /// <summary>The lowest RowKey of a row that occurred strictly before <paramref name="cutoff"/>, exclusive.</summary>
    public static string RowKeyBefore(DateTimeOffset cutoff) => InvertedTicks(cutoff) + "~";

    public static bool IsId(string? value) =>
        value is { Length: 4 + 19 + SequenceDigits + 6 } && value.StartsWith(IdPrefix, StringComparison.Ordinal)
        && value.AsSpan(IdPrefix.Length).IndexOfAnyExcept("0123456789abcdefghjkmnpqrstvwxyz") < 0;

    public string RowKey => Id[IdPrefix.Length..];

    public TableEntity ToEntity() => new(Partition, RowKey)
    {
        ["Type"] = Type,
        ["OccurredAt"] = OccurredAt,
        ["Record"] = ToJson().ToJsonString(),
    };

    /// <summary>The row as the API shows it (the stored shape is this JSON).</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["id"] = Id,
            ["type"] = Type,
            ["occurredAt"] = OccurredAt.ToString("O", CultureInfo.InvariantCulture),
            ["tenantId"] = Partition == GlobalPartition ? null : Partition,
            ["actor"] = new JsonObject { ["kind"] = Actor.Kind, ["id"] = Actor.Id },
            ["action"] = Action,
            ["target"] = Target is null ? null : new JsonObject { ["kind"] = Target.Kind, ["id"] = Target.Id },
            ["result"] = Result,
            ["reason"] = Reason,
        };
        foreach (var (name, value) in Details)
            json.TryAdd(name, value?.DeepClone());
        return json;
    }

    public static JsonObject ReadJson(TableEntity entity) =>
        JsonNode.Parse(entity.GetString("Record") ?? "{}") as JsonObject ?? new JsonObject();
}
