using System.Diagnostics;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sso.Testing;

namespace Sso.Deploy.Tests;

/// <summary>
/// The bicep CLI from the Azure.Bicep.CommandLine.linux-x64 package that this project restores,
/// and the template compiled once per test run.
/// </summary>
public static class Bicep
{
    public static string MainTemplate => Path.Combine(RepositoryPaths.Root, "infra", "main.bicep");

    public static string Executable { get; } = FindExecutable();

    private static readonly Lazy<Task<JsonObject>> CompiledMain = new(async () =>
    {
        var result = await RunAsync("build", MainTemplate, "--stdout");
        if (result.ExitCode != 0 || result.StandardError.Trim().Length > 0)
            throw new InvalidOperationException($"bicep build failed ({result.ExitCode}):\n{result.StandardError}");
        return JsonNode.Parse(result.StandardOutput)!.AsObject();
    });

    public static Task<JsonObject> CompiledMainAsync() => CompiledMain.Value;

    public static async Task<(int ExitCode, string StandardOutput, string StandardError)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryPaths.Root,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        // The CLI would otherwise look for updates and send telemetry over a network we do not have.
        start.Environment["BICEP_TELEMETRY_DISABLED"] = "true";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("bicep did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    private static string FindExecutable()
    {
        // $(BicepPath) from the package's build props, recorded in this assembly at build time.
        var recorded = typeof(Bicep).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == "BicepPath")?.Value;
        if (string.IsNullOrEmpty(recorded))
            throw new InvalidOperationException("The build recorded no BicepPath: is Azure.Bicep.CommandLine.linux-x64 restored?");
        var path = Path.GetFullPath(recorded.Replace('\\', '/'));
        if (!File.Exists(path)) throw new InvalidOperationException($"bicep is not at {path}.");
        var mode = File.GetUnixFileMode(path);
        if (!mode.HasFlag(UnixFileMode.UserExecute)) File.SetUnixFileMode(path, mode | UnixFileMode.UserExecute);
        return path;
    }
}

/// <summary>Reads a compiled ARM template: resources of nested module deployments included.</summary>
public static class ArmTemplate
{
    public sealed record Resource(string Module, string Type, JsonObject Body, JsonObject Template);

    public static IEnumerable<Resource> Resources(JsonObject template, string module = "main")
    {
        foreach (var resource in Items(template["resources"]))
        {
            var type = resource["type"]!.GetValue<string>();
            yield return new Resource(module, type, resource, template);
            if (type == "Microsoft.Resources/deployments" && resource["properties"]?["template"] is JsonObject nested)
                foreach (var inner in Resources(nested, resource["name"]!.GetValue<string>()))
                    yield return inner;
        }
    }

    /// <summary>languageVersion 2.0 keeps resources in an object by symbolic name; 1.0 in an array.</summary>
    private static IEnumerable<JsonObject> Items(JsonNode? resources) => resources switch
    {
        JsonObject bySymbol => bySymbol.Select(p => p.Value!.AsObject()),
        JsonArray list => list.Select(r => r!.AsObject()),
        _ => [],
    };

    /// <summary>A node as text: a string as itself, anything else as JSON without escaping quotes.</summary>
    public static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        _ => node.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }),
    };
}
