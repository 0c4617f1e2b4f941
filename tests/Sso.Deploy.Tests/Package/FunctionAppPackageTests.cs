using System.IO.Compression;
using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Package;
using Sso.Testing;

namespace Sso.Deploy.Tests.Package;

/// <summary>The package as scripts/publish.sh assembles it, over a stand-in handler binary.</summary>
public sealed class FunctionAppPackageTests : IDisposable
{
    private readonly string _work = Path.Combine(Path.GetTempPath(), "sso-package-" + Guid.NewGuid().ToString("N"));
    private readonly string _package;

    public FunctionAppPackageTests()
    {
        var handler = Path.Combine(_work, "publish");
        Directory.CreateDirectory(handler);
        File.WriteAllText(Path.Combine(handler, "Sso.Functions"), "#!/bin/sh\n");
        File.SetUnixFileMode(Path.Combine(handler, "Sso.Functions"), (UnixFileMode)0b111_101_101);
        File.WriteAllText(Path.Combine(handler, "Sso.Functions.dbg"), "symbols");
        _package = Path.Combine(_work, "app");
        FunctionAppPackage.Assemble(_package, Path.Combine(RepositoryPaths.Root, "host.json"), handler, "Sso.Functions");
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private JsonObject FunctionJson(string functionName) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(_package, functionName, "function.json")))!.AsObject();

    private static string Text(JsonNode? node) => node!.GetValue<string>();

    [Fact]
    public void Writes_an_http_trigger_with_the_route_and_methods_of_every_endpoint()
    {
        Assert.NotEmpty(FunctionTable.Http);
        foreach (var endpoint in FunctionTable.Http)
        {
            var bindings = FunctionJson(endpoint.FunctionName)["bindings"]!.AsArray();
            Assert.Equal(2, bindings.Count);
            var trigger = bindings[0]!;
            Assert.Equal("httpTrigger", Text(trigger["type"]));
            Assert.Equal("in", Text(trigger["direction"]));
            Assert.Equal("req", Text(trigger["name"]));
            Assert.Equal("anonymous", Text(trigger["authLevel"]));
            Assert.Equal(endpoint.Route.TrimStart('/'), Text(trigger["route"]));
            Assert.Equal(endpoint.Methods.Select(m => m.ToLowerInvariant()), trigger["methods"]!.AsArray().Select(Text));
            var output = bindings[1]!;
            Assert.Equal("http", Text(output["type"]));
            Assert.Equal("out", Text(output["direction"]));
            Assert.Equal("res", Text(output["name"]));
        }
    }

    [Fact]
    public void Writes_a_service_bus_trigger_with_an_identity_based_connection_for_every_queue_function()
    {
        foreach (var queue in FunctionTable.Queues)
        {
            var trigger = Assert.Single(FunctionJson(queue.FunctionName)["bindings"]!.AsArray())!;
            Assert.Equal("serviceBusTrigger", Text(trigger["type"]));
            Assert.Equal("in", Text(trigger["direction"]));
            Assert.Equal("message", Text(trigger["name"]));
            Assert.Equal(queue.QueueName, Text(trigger["queueName"]));
            Assert.Equal("ServiceBusConnection", Text(trigger["connection"]));
        }
    }

    [Fact]
    public void Writes_the_service_bus_binding_shape_the_host_expects()
    {
        // Holds even while the table has no queue function yet.
        var json = JsonNode.Parse(FunctionJsonWriter.Write(new QueueFunction("SomeWorker", "some-queue", (_, _, _) => Task.CompletedTask)))!;
        var trigger = Assert.Single(json["bindings"]!.AsArray())!;
        Assert.Equal("""{"type":"serviceBusTrigger","direction":"in","name":"message","queueName":"some-queue","connection":"ServiceBusConnection"}""",
            trigger.ToJsonString());
    }

    [Fact]
    public void Writes_a_timer_trigger_with_the_schedule_of_every_timer_function()
    {
        Assert.Contains(FunctionTable.Timers, t => t.FunctionName == "DomainClaimSweep");
        foreach (var timer in FunctionTable.Timers)
        {
            var trigger = Assert.Single(FunctionJson(timer.FunctionName)["bindings"]!.AsArray())!;
            Assert.Equal("timerTrigger", Text(trigger["type"]));
            Assert.Equal("in", Text(trigger["direction"]));
            Assert.Equal("timer", Text(trigger["name"]));
            Assert.Equal(timer.Schedule, Text(trigger["schedule"]));
            Assert.Equal(6, timer.Schedule.Split(' ').Length); // NCRONTAB: seconds first
        }
    }

    [Fact]
    public void Has_a_function_for_every_entry_of_the_table_and_nothing_else()
    {
        var folders = Directory.GetDirectories(_package).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal).ToList();
        var functions = FunctionTable.Http.Select(f => f.FunctionName)
            .Concat(FunctionTable.Queues.Select(q => q.FunctionName))
            .Concat(FunctionTable.Timers.Select(t => t.FunctionName))
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(functions, folders);
        Assert.All(folders, f => Assert.Equal(["function.json"], Directory.GetFiles(Path.Combine(_package, f)).Select(Path.GetFileName)));
    }

    [Fact]
    public void Points_host_json_at_the_handler_binary_and_forwards_http_requests()
    {
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(_package, "host.json")))!;
        Assert.Equal("2.0", Text(host["version"]));
        Assert.Equal("Sso.Functions", Text(host["customHandler"]!["description"]!["defaultExecutablePath"]));
        Assert.True(host["customHandler"]!["enableForwardingHttpRequest"]!.GetValue<bool>());
        Assert.Equal("", Text(host["extensions"]!["http"]!["routePrefix"]));
        Assert.True(File.Exists(Path.Combine(_package, "Sso.Functions")));
        Assert.True(File.GetUnixFileMode(Path.Combine(_package, "Sso.Functions")).HasFlag(UnixFileMode.UserExecute));
        Assert.False(File.Exists(Path.Combine(_package, "Sso.Functions.dbg")));
    }

    [Fact]
    public void Zips_the_package_with_the_binary_still_executable()
    {
        var zipPath = Path.Combine(_work, "sso-functions.zip");
        FunctionAppPackage.Zip(_package, zipPath);
        using var zip = ZipFile.OpenRead(zipPath);
        var binary = Assert.Single(zip.Entries, e => e.FullName == "Sso.Functions");
        Assert.Equal(0b111_101_101, (binary.ExternalAttributes >> 16) & 0x1FF);
        Assert.Contains(zip.Entries, e => e.FullName == "host.json");
        Assert.Contains(zip.Entries, e => e.FullName == "Health/function.json");
    }
}
