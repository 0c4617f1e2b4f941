using System.Text.Json.Nodes;

namespace Sso.Functions.Hosting;

/// <summary>RFC 7396 JSON Merge Patch.</summary>
public static class JsonMergePatch
{
    public static JsonNode? Apply(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject) return patch?.DeepClone();
        var result = target is JsonObject targetObject ? targetObject.DeepClone().AsObject() : new JsonObject();
        foreach (var (name, value) in patchObject)
        {
            if (value is null)
                result.Remove(name);
            else
                result[name] = Apply(result[name], value);
        }
        return result;
    }

    /// <summary>The first member of <paramref name="patch"/> (dotted path) that is not in <paramref name="allowed"/>.</summary>
    public static string? FirstUnknownMember(JsonObject patch, IReadOnlySet<string> allowed, string prefix = "")
    {
        foreach (var (name, _) in patch)
            if (!allowed.Contains(name)) return prefix + name;
        return null;
    }
}
