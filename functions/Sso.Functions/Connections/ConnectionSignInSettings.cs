using System.Text.Json.Nodes;
using Sso.Functions.Hosting;

namespace Sso.Functions.Connections;

/// <summary>
/// The sign-in guard settings every connection type has: <c>allowOutsideDomains</c> (default
/// false) lets the IdP vouch for addresses outside the tenant's domains (guest users).
/// </summary>
public static class ConnectionSignInSettings
{
    public const string AllowOutsideDomains = "allowOutsideDomains";

    public static IEnumerable<string> Members => [AllowOutsideDomains];

    public static void SetDefaults(JsonObject config) => config[AllowOutsideDomains] = false;

    /// <summary>Copies the guard settings present in <paramref name="input"/> into <paramref name="config"/>; null, or why not.</summary>
    public static Problem? Apply(JsonObject config, JsonObject input)
    {
        if (!input.ContainsKey(AllowOutsideDomains)) return null;
        if (input[AllowOutsideDomains] is not JsonValue value || !value.TryGetValue<bool>(out var allow))
            return Problem.Validation($"'{AllowOutsideDomains}' must be true or false.");
        config[AllowOutsideDomains] = allow;
        return null;
    }

    public static bool AllowsOutsideDomains(Connection connection) => connection.ConfigBool(AllowOutsideDomains);
}
