using Sso.Package;

// Usage: Sso.Package --output dist/app --host-json host.json [--handler <publish folder>]
//                    [--executable Sso.Functions] [--zip dist/sso-functions.zip]
var options = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i + 1 < args.Length; i += 2)
{
    if (!args[i].StartsWith("--", StringComparison.Ordinal)) return Usage($"unexpected argument {args[i]}");
    options[args[i][2..]] = args[i + 1];
}
if (args.Length % 2 != 0) return Usage($"{args[^1]} needs a value");
if (!options.TryGetValue("output", out var output)) return Usage("--output is required");
var hostJson = options.GetValueOrDefault("host-json", "host.json");
var handler = options.GetValueOrDefault("handler", "");
var executable = options.GetValueOrDefault("executable", "Sso.Functions");

if (handler.Length > 0 && !File.Exists(Path.Combine(handler, executable)))
    return Usage($"the handler folder {handler} has no {executable}");

var functions = FunctionAppPackage.Assemble(output, hostJson, handler, executable);
Console.WriteLine($"Wrote {functions.Count} functions, host.json and the handler to {output}");
if (options.TryGetValue("zip", out var zip))
{
    FunctionAppPackage.Zip(output, zip);
    Console.WriteLine($"Wrote {zip}");
}
return 0;

static int Usage(string problem)
{
    Console.Error.WriteLine($"Sso.Package: {problem}");
    Console.Error.WriteLine("usage: Sso.Package --output <folder> [--host-json host.json] [--handler <publish folder>] [--executable Sso.Functions] [--zip <file>]");
    return 2;
}
