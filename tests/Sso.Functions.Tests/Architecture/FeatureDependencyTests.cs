namespace Sso.Functions.Tests.Architecture;

/// <summary>
/// The folder rules of docs/architecture.md, checked against the compiled assemblies. A new
/// dependency between feature folders must be added to the page and to <see cref="Allowed"/>;
/// one that closes a cycle fails whatever the lists say.
/// </summary>
public class FeatureDependencyTests
{
    private static readonly System.Reflection.Assembly Functions = typeof(RequestPipeline).Assembly;
    private static readonly System.Reflection.Assembly Protocols = typeof(Sso.Protocols.Saml.SamlFailure).Assembly;

    // The composition root: it names every feature to register its services, its functions and
    // its JSON types, so its own outgoing references are not dependencies of Hosting.
    private static readonly HashSet<string> CompositionRoot =
    [
        "Sso.Functions.Hosting.FunctionTable",
        "Sso.Functions.Hosting.ServiceRegistration",
        "Sso.Functions.Hosting.SsoJsonContext",
        "Sso.Functions.Hosting.LocalQueueDispatcher",
    ];

    // docs/architecture.md, "Allowed dependencies". Keep the two in step.
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Storage"] = [],
        ["Hosting"] = ["Storage"],
        ["Outbox"] = ["Storage", "Hosting"],
        ["Tenants"] = ["Storage", "Hosting", "Outbox"],
        ["Connections"] = ["Storage", "Hosting", "Outbox", "Tenants"],
        ["Directory"] = ["Storage", "Hosting", "Outbox", "Tenants"],
        ["Audit"] = ["Storage", "Hosting", "Tenants", "Connections", "Directory"],
        ["OAuth"] = ["Storage", "Hosting", "Outbox", "Tenants", "Connections", "Directory", "Audit"],
        ["Saml"] = ["Storage", "Hosting", "Outbox", "Tenants", "Connections", "Directory", "Audit", "OAuth"],
        ["Oidc"] = ["Storage", "Hosting", "Outbox", "Tenants", "Connections", "Directory", "Audit", "OAuth"],
        ["Scim"] = ["Storage", "Hosting", "Outbox", "Tenants", "Directory", "Audit"],
        ["Webhooks"] = ["Storage", "Hosting", "Outbox", "Tenants", "Directory", "OAuth"],
        ["Deprovisioning"] = ["Storage", "Hosting", "Outbox", "Tenants", "Connections", "Directory", "OAuth", "Webhooks"],
        ["Setup"] = ["Storage", "Hosting", "Outbox", "Tenants", "Connections", "Directory", "Audit", "OAuth", "Saml", "Oidc"],
        ["GoogleDirectory"] = ["Storage", "Hosting", "Outbox", "Tenants", "Directory"],
        ["OperatorConsole"] = ["Storage", "Hosting", "Outbox", "Tenants", "Connections", "Directory", "Audit", "OAuth", "Saml", "Oidc",
            "Scim", "Webhooks", "Deprovisioning", "GoogleDirectory", "Setup"],
    };

    // Edges that close a cycle and are tolerated until removed. Issue 19 item 1 removed the last
    // ones; the set stays so the checks below read the same. Never add one.
    private static readonly HashSet<(string, string)> KnownCycleEdges = [];

    private static readonly Dictionary<string, string[]> AllowedInProtocols = new()
    {
        ["Net"] = [], ["OAuth"] = [], ["Oidc"] = ["OAuth"], ["Saml"] = [], ["Scim"] = [], ["Webhooks"] = [],
    };

    private static SortedDictionary<(string From, string To), string> FunctionsEdges()
    {
        var edges = FeatureDependencies.Edges(Functions, "Sso.Functions", type => CompositionRoot.Contains(type.FullName!));
        Assert.NotEmpty(edges); // the reader sees the code at all
        return edges;
    }

    [Fact]
    public void Every_dependency_between_feature_folders_is_documented()
    {
        var undocumented = FunctionsEdges()
            .Where(e => !Allowed.TryGetValue(e.Key.From, out var to) || !to.Contains(e.Key.To))
            .Select(e => $"{e.Key.From} -> {e.Key.To}: {e.Value}")
            .ToList();
        Assert.True(undocumented.Count == 0,
            "Undocumented dependencies between feature folders; add them to docs/architecture.md and Allowed "
            + "if they close no cycle, else move the code:\n" + string.Join("\n", undocumented));
    }

    [Fact]
    public void No_cycle_between_feature_folders_beyond_the_known_ones()
    {
        var edges = FunctionsEdges().Keys.Where(e => !KnownCycleEdges.Contains(e)).ToList();
        var cycles = FeatureDependencies.Cycles(edges);
        Assert.True(cycles.Count == 0, "New cycles between feature folders: "
            + string.Join("; ", cycles.Select(c => string.Join(", ", c))));

        var allowedEdges = Allowed.SelectMany(a => a.Value.Select(to => (a.Key, to))).Where(e => !KnownCycleEdges.Contains(e));
        Assert.Empty(FeatureDependencies.Cycles(allowedEdges));
    }

    [Fact]
    public void Every_known_cycle_edge_still_exists()
    {
        var edges = FunctionsEdges();
        var gone = KnownCycleEdges.Where(e => !edges.ContainsKey(e)).ToList();
        Assert.True(gone.Count == 0, "These cycles are gone; remove them from KnownCycleEdges, Allowed and docs/architecture.md: "
            + string.Join(", ", gone));
    }

    [Fact]
    public void The_protocol_folders_depend_only_as_documented()
    {
        var edges = FeatureDependencies.Edges(Protocols, "Sso.Protocols", _ => false);
        var undocumented = edges
            .Where(e => !AllowedInProtocols.TryGetValue(e.Key.From, out var to) || !to.Contains(e.Key.To))
            .Select(e => $"{e.Key.From} -> {e.Key.To}: {e.Value}")
            .ToList();
        Assert.True(undocumented.Count == 0, "Undocumented dependencies in Sso.Protocols:\n" + string.Join("\n", undocumented));
    }

    [Fact]
    public void Sso_Protocols_references_neither_AspNetCore_nor_Azure()
    {
        var forbidden = Protocols.GetReferencedAssemblies()
            .Select(a => a.Name!)
            .Where(name => name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal)
                || name.StartsWith("Azure", StringComparison.Ordinal)
                || name.StartsWith("Microsoft.Azure", StringComparison.Ordinal)
                || name.StartsWith("Microsoft.Extensions.Hosting", StringComparison.Ordinal)
                || name.StartsWith("Sso.Functions", StringComparison.Ordinal))
            .ToList();
        Assert.Empty(forbidden);
    }

    [Fact]
    public void The_reader_sees_references_made_only_inside_method_bodies_and_lambdas()
    {
        // The fixtures below mention each other only in code, never in a signature or field:
        // a reader blind to IL would find no edge and every check above would pass vacuously.
        var edges = FeatureDependencies.Edges(typeof(FeatureDependencyTests).Assembly,
            "Sso.Functions.Tests.Architecture.Fixtures", _ => false);
        Assert.Equal(new[] { ("Alpha", "Beta"), ("Beta", "Alpha") }, edges.Keys);
        var cycle = Assert.Single(FeatureDependencies.Cycles(edges.Keys));
        Assert.Equal(new[] { "Alpha", "Beta" }, cycle);
    }

    [Fact]
    public void Tables_are_named_only_through_TableNames()
    {
        // A raw name beside a store's constant is how a renamed table silently stops a sweep.
        var source = Path.Combine(RepositoryPaths.Root, "functions", "Sso.Functions");
        var raw = System.IO.Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: Path.GetRelativePath(source, f), Line: i + 1, Text: line)))
            .Where(l => System.Text.RegularExpressions.Regex.IsMatch(l.Text, @"(GetTableAsync|FullName|OutboxTable)\(\s*""")
                || System.Text.RegularExpressions.Regex.IsMatch(l.Text, @"const string TableName\s*=\s*"""))
            .Select(l => $"{l.File}:{l.Line}: {l.Text.Trim()}")
            .ToList();
        Assert.True(raw.Count == 0, "Name tables through Storage/TableNames:\n" + string.Join("\n", raw));

        var names = typeof(Sso.Functions.Storage.TableNames).GetFields()
            .Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).ToList();
        Assert.Equal(names.Count, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }
}
