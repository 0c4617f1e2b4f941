using System.Diagnostics;
using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.Storage.Queues;

namespace Sso.Deploy.Tests.Smoke;

/// <summary>
/// <c>Sso.Functions --check-service-bus-messages</c> (<see cref="ServiceBusMessageCheck"/>): the
/// handler builds work messages, a <c>ServiceBusMessageBatch</c> and a dead letter with the
/// Service Bus SDK, no network, and prints them. Run in the Native AOT binary, a trimmed-away
/// member of the SDK or of our mapping shows up as a crash or a wrong field.
/// </summary>
public abstract class ServiceBusMessageSmokeTests
{
    protected abstract Task<ProcessStartInfo> StartInfoAsync();

    private async Task<JsonObject> RunCheckAsync()
    {
        var start = await StartInfoAsync();
        start.ArgumentList.Add(ServiceBusMessageCheck.Argument);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}:\n{await stdout}\n{await stderr}");
        return JsonNode.Parse(await stdout)!.AsObject();
    }

    [Fact]
    public async Task Builds_work_messages_with_id_subject_content_type_and_the_envelope_body()
    {
        var check = await RunCheckAsync();

        var messages = check["messages"]!.AsArray();
        Assert.Equal(3, messages.Count);
        var first = messages[0]!;
        Assert.Equal("evt_check.revoke", first["messageId"]!.GetValue<string>());
        Assert.Equal("user.revoke", first["subject"]!.GetValue<string>());
        Assert.Equal("application/json", first["contentType"]!.GetValue<string>());
        Assert.Equal(0, first["applicationProperties"]!.GetValue<int>());
        Assert.Equal(new WorkEnvelope("evt_check.revoke", "user.revoke", """{"userId":"usr_check"}"""),
            WorkEnvelope.Read(first["body"]!.GetValue<string>()));
        Assert.Equal("user.memberships", messages[1]!["subject"]!.GetValue<string>());
    }

    [Fact]
    public async Task Fills_a_message_batch_until_it_refuses_the_next_message()
    {
        var batch = (await RunCheckAsync())["batch"]!;

        Assert.Equal(2, batch["count"]!.GetValue<int>());
        Assert.Equal(1024, batch["maxSizeInBytes"]!.GetValue<long>());
        Assert.Equal([true, true, false], batch["added"]!.AsArray().Select(a => a!.GetValue<bool>()));
        Assert.Equal(["evt_check.revoke", "evt_check.memberships"], batch["messageIds"]!.AsArray().Select(a => a!.GetValue<string>()));
    }

    [Fact]
    public async Task Maps_a_received_dead_letter_to_the_listed_fields()
    {
        var deadLetter = (await RunCheckAsync())["deadLetter"]!;

        Assert.Equal("42", deadLetter["id"]!.GetValue<string>());
        Assert.Equal("evt_check.revoke", deadLetter["messageId"]!.GetValue<string>());
        Assert.Equal("user.revoke", deadLetter["kind"]!.GetValue<string>());
        Assert.Equal("MaxDeliveryCountExceeded", deadLetter["reason"]!.GetValue<string>());
        Assert.Equal(10, deadLetter["deliveryCount"]!.GetValue<int>());
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero), deadLetter["enqueuedAt"]!.GetValue<DateTimeOffset>());
    }
}

/// <summary>In the Native AOT binary from the package folder, exactly as it is deployed.</summary>
[Trait("Category", "Aot")]
public sealed class AotServiceBusMessageSmokeTests : ServiceBusMessageSmokeTests
{
    protected override async Task<ProcessStartInfo> StartInfoAsync()
    {
        await HandlerBuilds.EnsureAotPackageAsync();
        return new ProcessStartInfo(HandlerBuilds.AotBinary) { WorkingDirectory = HandlerBuilds.PackageFolder };
    }
}

/// <summary>In the JIT build, so both builds are held to the same shapes.</summary>
public sealed class JitServiceBusMessageSmokeTests : ServiceBusMessageSmokeTests
{
    protected override Task<ProcessStartInfo> StartInfoAsync() =>
        Task.FromResult(new ProcessStartInfo("dotnet")
        {
            ArgumentList = { HandlerBuilds.JitAssembly },
            WorkingDirectory = Path.GetDirectoryName(HandlerBuilds.JitAssembly)!,
        });
}
