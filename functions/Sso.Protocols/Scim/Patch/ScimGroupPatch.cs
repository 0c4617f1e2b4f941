using System.Text.Json;
using System.Text.Json.Nodes;
using Sso.Protocols.Scim.Filter;

namespace Sso.Protocols.Scim.Patch;

/// <summary>
/// What a Group PATCH or PUT does to membership: member ids added and removed, or a full replace
/// (then <see cref="Added"/> is the whole new membership). The store writes one row per change
/// instead of rewriting a member list, so parallel PATCHes from an IdP never overwrite each other.
/// </summary>
public sealed record ScimMembershipDelta(bool ReplacesAll, IReadOnlySet<string> Added, IReadOnlySet<string> Removed)
{
    public static ScimMembershipDelta None { get; } = new(false, new HashSet<string>(), new HashSet<string>());

    public static ScimMembershipDelta ReplaceWith(IEnumerable<string> memberIds) =>
        new(true, new HashSet<string>(memberIds, StringComparer.Ordinal), new HashSet<string>());

    public bool IsEmpty => !ReplacesAll && Added.Count == 0 && Removed.Count == 0;

    /// <summary>The membership after the change, given the membership before it.</summary>
    public IReadOnlySet<string> ApplyTo(IEnumerable<string> current)
    {
        if (ReplacesAll) return new HashSet<string>(Added, StringComparer.Ordinal);
        var result = new HashSet<string>(current, StringComparer.Ordinal);
        result.ExceptWith(Removed);
        result.UnionWith(Added);
        return result;
    }
}

/// <summary>A Group PATCH split into its member changes and the operations on the group's other attributes.</summary>
public sealed record ScimGroupPatch(ScimPatchRequest Attributes, ScimMembershipDelta Members)
{
    public static Result<ScimGroupPatch, ScimError> Split(ScimPatchRequest patch)
    {
        var others = new List<ScimPatchOperation>();
        var builder = new DeltaBuilder();
        foreach (var operation in patch.Operations)
        {
            if (operation.Path is null)
            {
                // A path-less value may carry "members" beside other attributes.
                var value = (JsonObject)operation.Value!;
                var membersKey = ScimJson.FindKey(value, "members")
                                 ?? value.Select(p => p.Key).FirstOrDefault(k => string.Equals(k, $"{ScimSchemas.Group}:members", StringComparison.OrdinalIgnoreCase));
                if (membersKey is null)
                {
                    others.Add(operation);
                    continue;
                }
                var rest = value.DeepClone().AsObject();
                rest.Remove(membersKey);
                if (rest.Count > 0) others.Add(operation with { Value = rest });
                if (builder.Apply(operation.Type, null, value[membersKey], hasValue: true) is { } error) return error;
                continue;
            }
            if (!IsMembers(operation.Path.Attribute))
            {
                others.Add(operation);
                continue;
            }
            if (operation.Path.SubAttribute is not null)
                return ScimError.InvalidPath($"Members are changed as whole values; '{operation.Path}' names a part of one.");
            if (operation.Path.ValueFilter is { } filter)
            {
                if (operation.Type != ScimPatchOperationType.Remove)
                    return ScimError.InvalidPath("A members value filter is only supported with remove; use add or replace on 'members'.");
                var ids = new List<string>();
                if (!CollectValueEqualities(filter, ids))
                    return ScimError.InvalidFilter("Members can only be selected by value, e.g. members[value eq \"id\"].");
                builder.Remove(ids);
                continue;
            }
            if (builder.Apply(operation.Type, operation.Path, operation.Value, operation.HasValue) is { } failed) return failed;
        }
        return new ScimGroupPatch(new ScimPatchRequest(others), builder.Build());
    }

    private static bool IsMembers(ScimAttributePath path) =>
        string.Equals(path.AttributeName, "members", StringComparison.OrdinalIgnoreCase)
        && (path.SchemaUrn is null || string.Equals(path.SchemaUrn, ScimSchemas.Group, StringComparison.OrdinalIgnoreCase));

    private static bool CollectValueEqualities(ScimFilter filter, List<string> ids)
    {
        switch (filter)
        {
            case ScimFilter.Or or:
                return CollectValueEqualities(or.Left, ids) && CollectValueEqualities(or.Right, ids);
            case ScimFilter.Comparison { Operator: ScimComparisonOperator.Eq, Value: { } v, Path: { SchemaUrn: null, SubAttributeName: null } p }
                when p.Is("value") && v.GetValueKind() == JsonValueKind.String:
                ids.Add(v.GetValue<string>());
                return true;
            default:
                return false;
        }
    }

    /// <summary>The member ids in a members value: objects with "value", or bare id strings.</summary>
    public static Result<IReadOnlyList<string>, ScimError> MemberIds(JsonNode? value)
    {
        var ids = new List<string>();
        if (value is null) return ids;
        foreach (var item in value is JsonArray array ? array.ToList() : [value])
        {
            var id = item switch
            {
                JsonObject member => ScimJson.GetString(member, "value"),
                JsonValue bare when bare.GetValueKind() == JsonValueKind.String => bare.GetValue<string>(),
                _ => null,
            };
            if (string.IsNullOrWhiteSpace(id)) return ScimError.InvalidValue("Each member needs a non-empty 'value' with the member's id.");
            ids.Add(id);
        }
        return ids;
    }

    private sealed class DeltaBuilder
    {
        private bool _replacesAll;
        private readonly HashSet<string> _added = new(StringComparer.Ordinal);
        private readonly HashSet<string> _removed = new(StringComparer.Ordinal);

        public ScimError? Apply(ScimPatchOperationType type, ScimPatchPath? path, JsonNode? value, bool hasValue)
        {
            var ids = MemberIds(value);
            if (!ids.IsSuccess) return ids.Error;
            switch (type)
            {
                case ScimPatchOperationType.Add:
                    foreach (var id in ids.Value) { _added.Add(id); _removed.Remove(id); }
                    break;
                case ScimPatchOperationType.Replace:
                    _replacesAll = true;
                    _added.Clear();
                    _removed.Clear();
                    _added.UnionWith(ids.Value);
                    break;
                case ScimPatchOperationType.Remove when hasValue && value is not null:
                    // Entra ID: remove with path "members" and a value removes only those members.
                    Remove(ids.Value);
                    break;
                case ScimPatchOperationType.Remove:
                    // RFC 7644 §3.5.2.2: remove "members" with no value removes every member.
                    _replacesAll = true;
                    _added.Clear();
                    _removed.Clear();
                    break;
            }
            return null;
        }

        public void Remove(IEnumerable<string> ids)
        {
            foreach (var id in ids)
            {
                _added.Remove(id);
                if (!_replacesAll) _removed.Add(id);
            }
        }

        public ScimMembershipDelta Build() =>
            new(_replacesAll, new HashSet<string>(_added, StringComparer.Ordinal), new HashSet<string>(_removed, StringComparer.Ordinal));
    }
}
