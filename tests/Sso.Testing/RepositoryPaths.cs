namespace Sso.Testing;

public static class RepositoryPaths
{
    /// <summary>The folder that holds Serverless.Sso.sln.</summary>
    public static string Root { get; } = FindRoot();

    public static string AzuriteExecutable => Path.Combine(Root, ".tools", "node_modules", ".bin", "azurite");

    public static string Artifacts => Path.Combine(Root, "artifacts");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Serverless.Sso.sln"))) return dir.FullName;
        throw new InvalidOperationException("Cannot find Serverless.Sso.sln above " + AppContext.BaseDirectory);
    }
}
