using Sso.Bench;

// Each entry is one benchmark; other features add theirs here (scim, acs, deprovisioning, ...).
var entries = new Dictionary<string, Func<string[], Task<int>>>(StringComparer.OrdinalIgnoreCase)
{
    ["coldstart"] = ColdStartBench.RunAsync,
    ["scim"] = ScimBench.RunAsync,
    ["acs"] = AcsBench.RunAsync,
    ["deprovision"] = DeprovisionBench.RunAsync,
    ["google"] = GoogleSyncBench.RunAsync,
};

if (args.Length == 0 || !entries.TryGetValue(args[0], out var entry))
{
    Console.Error.WriteLine($"usage: bench/bench.sh <entry> [options]; entries: {string.Join(", ", entries.Keys)}");
    return 2;
}
return await entry(args[1..]);
