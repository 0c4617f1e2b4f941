using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Hosting;

namespace Sso.Package;

/// <summary>
/// The function-app package as Azure Functions deploys it: host.json at the root, naming the
/// handler binary as the custom handler's executable, the binary itself, and one folder per
/// function with its function.json.
/// </summary>
public static class FunctionAppPackage
{
    /// <summary>
    /// Writes the package folder. <paramref name="handlerFiles"/> is the published handler (an AOT
    /// publish holds the binary and nothing else it needs at run time); debug symbols and the Web SDK's static-web-assets manifest are left out.
    /// Returns the names of the function folders written.
    /// </summary>
    public static IReadOnlyList<string> Assemble(string outputFolder, string hostJsonPath, string handlerFiles, string executableName)
    {
        if (Directory.Exists(outputFolder)) Directory.Delete(outputFolder, recursive: true);
        Directory.CreateDirectory(outputFolder);

        var written = new List<string>();
        foreach (var (functionName, json) in FunctionJsonWriter.WriteAll())
        {
            var folder = Path.Combine(outputFolder, functionName);
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, "function.json"), json);
            written.Add(functionName);
        }

        File.WriteAllText(Path.Combine(outputFolder, "host.json"), HostJson(File.ReadAllText(hostJsonPath), executableName));

        if (Directory.Exists(handlerFiles))
        {
            foreach (var file in Directory.EnumerateFiles(handlerFiles))
            {
                if (Path.GetExtension(file) is ".dbg" or ".pdb" || file.EndsWith(".staticwebassets.endpoints.json", StringComparison.Ordinal)) continue;
                var target = Path.Combine(outputFolder, Path.GetFileName(file));
                if (written.Contains(Path.GetFileName(file), StringComparer.OrdinalIgnoreCase))
                    throw new InvalidOperationException($"The published file {Path.GetFileName(file)} has the name of a function folder.");
                File.Copy(file, target, overwrite: true);
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(target, File.GetUnixFileMode(file));
            }
        }
        return written;
    }

    /// <summary>The repository's host.json with the custom handler pointed at the binary.</summary>
    public static string HostJson(string hostJson, string executableName)
    {
        var host = JsonNode.Parse(hostJson)?.AsObject() ?? throw new InvalidOperationException("host.json is not a JSON object.");
        var customHandler = host["customHandler"] as JsonObject ?? throw new InvalidOperationException("host.json has no customHandler.");
        var description = customHandler["description"] as JsonObject ?? throw new InvalidOperationException("host.json has no customHandler.description.");
        description["defaultExecutablePath"] = executableName;
        return host.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>
    /// Zips the package folder, keeping each file's Unix mode: the Functions host starts the
    /// handler binary straight from the extracted package, so it must stay executable.
    /// </summary>
    public static void Zip(string packageFolder, string zipPath)
    {
        if (File.Exists(zipPath)) File.Delete(zipPath);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(zipPath))!);
        using var zip = ZipFile.Open(zipPath, ZipArchiveMode.Create);
        foreach (var file in Directory.EnumerateFiles(packageFolder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var name = Path.GetRelativePath(packageFolder, file).Replace('\\', '/');
            var entry = zip.CreateEntryFromFile(file, name, CompressionLevel.Optimal);
            const int regularFile = 0x8000; // S_IFREG
            var mode = OperatingSystem.IsWindows() ? 0b110_100_100 : (int)File.GetUnixFileMode(file);
            entry.ExternalAttributes = (regularFile | mode) << 16;
        }
    }
}
