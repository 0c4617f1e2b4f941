using System.Text.Json.Serialization;

namespace Sso.Functions.Storage.Queues;

/// <summary>
/// The queue plumbing's own wire shapes (the work envelope), kept
/// apart from <c>SsoJsonContext</c> so that Storage depends on no feature or on Hosting.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(WorkEnvelope))]
public partial class QueueJsonContext : JsonSerializerContext;
