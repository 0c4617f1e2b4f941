using System.Diagnostics;
using Sso.Testing;

namespace Sso.Deploy.Tests.Smoke;

/// <summary>Where the two builds of the handler are, and how to bring the AOT one up to date.</summary>
public static class HandlerBuilds
{
    public static string PackageFolder => Path.Combine(RepositoryPaths.Root, "dist", "app");

    public static string AotBinary => Path.Combine(PackageFolder, "Sso.Functions");

    /// <summary>The JIT build of the same configuration as this test assembly.</summary>
    public static string JitAssembly
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name; // bin/<Configuration>/net10.0
            return Path.Combine(RepositoryPaths.Root, "functions", "Sso.Functions", "bin", configuration, "net10.0", "Sso.Functions.dll");
        }
    }

    private static readonly SemaphoreSlim PublishLock = new(1, 1);

    /// <summary>
    /// Runs scripts/publish.sh unless dist/app already holds a binary newer than every source
    /// it is built from: an AOT publish takes minutes, and most test runs change no handler code.
    /// </summary>
    public static async Task EnsureAotPackageAsync()
    {
        await PublishLock.WaitAsync();
        try
        {
            if (File.Exists(AotBinary) && File.GetLastWriteTimeUtc(AotBinary) > NewestSource()) return;
            var start = new ProcessStartInfo("bash")
            {
                ArgumentList = { Path.Combine(RepositoryPaths.Root, "scripts", "publish.sh") },
                WorkingDirectory = RepositoryPaths.Root,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(start) ?? throw new InvalidOperationException("publish.sh did not start.");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(15));
            await process.WaitForExitAsync(timeout.Token);
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"scripts/publish.sh failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
        }
        finally
        {
            PublishLock.Release();
        }
    }

    /// <summary>The newest of the files the binary is compiled from (not the package tool's).</summary>
    private static DateTime NewestSource()
    {
        var root = RepositoryPaths.Root;
        var separator = Path.DirectorySeparatorChar;
        return Directory.EnumerateFiles(Path.Combine(root, "functions"), "*", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{separator}bin{separator}") && !path.Contains($"{separator}obj{separator}"))
            .Concat(new[] { "Directory.Build.props", "Directory.Packages.props" }.Select(f => Path.Combine(root, f)))
            .Where(File.Exists)
            .Max(File.GetLastWriteTimeUtc);
    }
}
