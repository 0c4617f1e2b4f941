using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Sso.Functions.Audit;
using Sso.Functions.Deprovisioning;
using Sso.Functions.Storage.Queues;
using Sso.Functions.Tests.Audit;
using Sso.Functions.Tests.Deprovisioning;
using Sso.Functions.Tests.Saml;
using Sso.Functions.Tests.Scim;
using Sso.Functions.Tests.Setup;
using Sso.Functions.Webhooks;
using Sso.Testing;

namespace Sso.Functions.Tests.OperatorConsole;

/// <summary>
/// The console's operations pages in Debian's chromium against the real app over Azurite: the
/// overview's charts after real sign-ins and SCIM requests, the audit trail's filters and refusal
/// guidance, events and webhook deliveries, a dead letter replayed, holds released and cancelled,
/// and a forged form that changes nothing. Screenshots go to artifacts/screenshots/.
/// </summary>
public class ConsoleActivityBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    /// <summary>The console app, with the test helpers' clients (SignInFlow, ScimTestDirectory...) aimed at its socket.</summary>
    private static async Task<ConsoleApp> StartAsync()
    {
        var console = await ConsoleApp.StartAsync();
        console.App.SocketBaseAddress = new Uri(console.BaseUrl);
        return console;
    }

    /// <summary>A laptop-sized page whose waits allow for a loaded machine: a deadline turns a hang into a failure, nothing more.</summary>
    private async Task<IPage> NewPageAsync()
    {
        var page = await ConsoleBrowser.NewPageAsync(chromium.Browser);
        page.SetDefaultTimeout(90_000);
        page.SetDefaultNavigationTimeout(90_000);
        return page;
    }

    private static string Today(ConsoleApp console) => console.App.Clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd");

    private static async Task<string?> CountAsync(IPage page, string chart, string date, string kind) =>
        await page.Locator($"#{chart} g.day[data-date='{date}'] rect.{kind}").GetAttributeAsync("data-count");

    private static async Task RefuseOneAsync(SignInFlow flow)
    {
        var (requestId, relayState) = await flow.StartAsync("s", null);
        var wrongAudience = flow.Assertion(requestId) with { SpEntityId = "https://elsewhere.example.test" };
        Assert.Equal("access_denied", SignInFlow.CallbackParameters(await flow.PostAcsAsync(flow.Idp.SignedResponse(wrongAudience), relayState))["error"]);
    }

    private static async Task<List<JsonObject>> OperatorRowsAsync(ConsoleApp console, string? tenantId, string action) =>
        (await AuditTestRows.ReadAllAsync(console.App, tenantId, AuditTypes.ManagementChange))
        .Where(r => r["action"]?.GetValue<string>() == action && r["actor"]?["kind"]?.GetValue<string>() == "operator").ToList();

    [Fact]
    public async Task The_overview_charts_count_the_days_sign_ins_and_SCIM_requests_and_events_show_deliveries()
    {
        await using var console = await StartAsync();
        using var receiver = new RecordingHttpReceiver();
        var flow = await SignInFlow.CreateAsync(console.App, new JsonObject { ["jitProvisioning"] = true });
        await flow.SignInAsync();
        await flow.SignInAsync();
        await RefuseOneAsync(flow);
        var directory = await ScimTestDirectory.CreateAsync(console.App);
        Assert.Equal(HttpStatusCode.Created, (await console.Admin.PostAsJsonAsync("/api/v1/webhooks",
            new { url = receiver.BaseUrl + "hook", tenantId = directory.TenantId })).StatusCode);
        await directory.CreateUserAsync($"dana.{Guid.NewGuid():N}@example.com");
        await directory.CreateUserAsync($"eli.{Guid.NewGuid():N}@example.com");
        Assert.Equal(HttpStatusCode.NotFound, (await directory.GetAsync("/Users/nobody")).StatusCode);
        await console.App.DrainQueuesAsync();
        await console.App.FlushAsync();

        var page = await NewPageAsync();
        await ConsoleBrowser.SignInAsync(page, console, path: "/console");
        await page.GotoAsync(console.Url("/console"));
        var today = Today(console);
        Assert.Equal("2", await CountAsync(page, "signins-chart", today, "success"));
        Assert.Equal("1", await CountAsync(page, "signins-chart", today, "failure"));
        Assert.Equal("2", await CountAsync(page, "scim-chart", today, "success"));
        Assert.Equal("1", await CountAsync(page, "scim-chart", today, "failure"));
        Assert.Equal(14, await page.Locator("#signins-chart g.day").CountAsync());
        var yesterday = console.App.Clock.GetUtcNow().UtcDateTime.AddDays(-1).ToString("yyyy-MM-dd");
        Assert.Equal("0", await CountAsync(page, "signins-chart", yesterday, "success"));
        Assert.Contains("2 signed in, 1 refused", await page.Locator("#signins-chart svg > title").TextContentAsync() + " "
            + await page.Locator("#signins-chart svg > desc").TextContentAsync());
        // The sign-in tenant's domain was never verified: it is a problem to look at.
        Assert.Equal(1, await page.Locator("#problems tr[data-kind='domain']").Filter(new() { HasText = flow.Domain }).CountAsync());
        await ConsoleBrowser.ScreenshotAsync(page, "overview");

        // Events of one tenant and one type; the webhook with its deliveries.
        console.App.Clock.Advance(TimeSpan.FromSeconds(5));   // past the feed's settle time
        await page.GotoAsync(console.Url($"/console/events?tenant={directory.TenantId}&type=dsync.user.created"));
        var rows = page.Locator("#events tr.event");
        Assert.Equal(2, await rows.CountAsync());
        foreach (var row in await rows.AllAsync()) Assert.Contains("dsync.user.created", await row.TextContentAsync());
        Assert.True(await page.Locator("table.deliveries").GetByText("delivered").CountAsync() >= 2);
        await ConsoleBrowser.ScreenshotAsync(page, "events");
    }

    [Fact]
    public async Task The_audit_trail_filters_by_result_and_shows_what_to_do_about_a_refusal()
    {
        await using var console = await StartAsync();
        var flow = await SignInFlow.CreateAsync(console.App, new JsonObject { ["jitProvisioning"] = true });
        await flow.SignInAsync();
        await RefuseOneAsync(flow);
        await console.App.FlushAsync();

        var page = await NewPageAsync();
        await ConsoleBrowser.SignInAsync(page, console, path: "/console/activity");
        await page.Locator("select[name=tenant]").SelectOptionAsync(flow.TenantId);
        await page.Locator("select[name=type]").SelectOptionAsync(AuditTypes.SignInAttempt);
        await page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("tenant=" + flow.TenantId, StringComparison.Ordinal));
        Assert.Equal(2, await page.Locator("#activity tr.audit-row").CountAsync());

        await page.Locator("select[name=result]").SelectOptionAsync("failure");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("result=failure", StringComparison.Ordinal));
        var refused = page.Locator("#activity tr.audit-row");
        Assert.Equal(1, await refused.CountAsync());
        Assert.Equal("idp_response_rejected", await refused.Locator("code.reason").TextContentAsync());
        Assert.Equal(Sso.Functions.OperatorConsole.RefusalGuidance.For("idp_response_rejected"),
            (await refused.Locator("p.guidance").TextContentAsync())!.Replace("What to do: ", ""));
        await ConsoleBrowser.ScreenshotAsync(page, "activity");

        // A time range after the attempts finds nothing; a bad time is the API's own message.
        await page.GotoAsync(console.Url($"/console/activity?tenant={flow.TenantId}&since={Uri.EscapeDataString(console.App.Clock.GetUtcNow().AddMinutes(1).ToString("O"))}"));
        Assert.Equal(1, await page.Locator("#no-activity").CountAsync());
        var bad = await page.GotoAsync(console.Url($"/console/activity?tenant={flow.TenantId}&since=yesterday"));
        Assert.Equal(400, bad!.Status);
        Assert.Contains("'since' must be a date or an ISO 8601 time.", await page.Locator(".alert.error").TextContentAsync());
    }

    [Fact]
    public async Task A_dead_letter_is_replayed_from_the_console_and_a_forged_replay_changes_nothing()
    {
        await using var console = await StartAsync();
        using var receiver = new RecordingHttpReceiver();
        var webhook = await (await console.Admin.PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.BaseUrl + "dl" }))
            .Content.ReadFromJsonAsync<JsonObject>();
        var message = new WebhookDeliveryMessage(webhook!["id"]!.GetValue<string>(), "evt_console_dead_letter", "dsync.user.deprovisioned",
            null, """{"id":"evt_console_dead_letter"}""", 1);
        var queues = console.App.Get<StorageWorkQueue>();
        await queues.SendAsync(WebhookDeliveryWorker.QueueName, [WebhookDeliveryWorker.Envelope(message)], default);
        // Five deliveries that never completed, as after five crashed invocations.
        var queue = await queues.GetQueueAsync(WebhookDeliveryWorker.QueueName, default);
        for (var i = 0; i < LocalQueueDispatcher.MaxDeliveryCount; i++)
        {
            var received = Assert.Single((await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30))).Value);
            await queue.UpdateMessageAsync(received.MessageId, received.PopReceipt, received.Body, TimeSpan.Zero);
        }
        await console.App.Get<LocalQueueDispatcher>().DrainOnceAsync(default);
        Assert.Empty(receiver.Requests);

        var page = await NewPageAsync();
        await ConsoleBrowser.SignInAsync(page, console, path: "/console/dead-letters");
        var row = page.Locator("#dead-letters tr.dead-letter").Filter(new() { HasText = "evt_console_dead_letter" });
        Assert.Equal(1, await row.CountAsync());
        await ConsoleBrowser.ScreenshotAsync(page, "deadletters");

        // A forged form: the 403 page, the dead letter still there, nothing sent, nothing audited.
        await page.EvalOnSelectorAllAsync("input[name=csrf]", "inputs => inputs.forEach(i => i.value = 'forged')");
        var forged = await page.RunAndWaitForResponseAsync(() => row.GetByRole(AriaRole.Button, new() { Name = "Replay" }).ClickAsync(),
            response => response.Url.EndsWith("/replay", StringComparison.Ordinal));
        Assert.Equal(403, forged.Status);
        await console.App.DrainQueuesAsync();
        Assert.Empty(receiver.Requests);
        Assert.Contains((await console.Admin.GetFromJsonAsync<JsonObject>("/api/v1/deadletters"))!["data"]!.AsArray(),
            d => d!["messageId"]!.GetValue<string>().StartsWith("evt_console_dead_letter.", StringComparison.Ordinal));
        Assert.Empty(await OperatorRowsAsync(console, null, "dead_letter.replay"));

        await page.GotoAsync(console.Url("/console/dead-letters"));
        await row.GetByRole(AriaRole.Button, new() { Name = "Replay" }).ClickAsync();
        await page.WaitForURLAsync(url => url.EndsWith("/console/dead-letters?done=replayed", StringComparison.Ordinal));
        Assert.Equal(0, await row.CountAsync());
        Assert.Contains("sent back to its queue", await page.Locator(".alert.ok").TextContentAsync());
        await console.App.DrainQueuesAsync();
        Assert.Single(receiver.Requests);
        Assert.Equal("success", Assert.Single(await OperatorRowsAsync(console, null, "dead_letter.replay"))["result"]!.GetValue<string>());
    }

    [Fact]
    public async Task Releasing_a_hold_deprovisions_its_users_and_cancelling_another_keeps_them()
    {
        await using var console = await StartAsync();
        var app = console.App;

        async Task<(ScimTestDirectory Directory, List<string> Tokens)> HoldAsync()
        {
            var directory = await ScimTestDirectory.CreateAsync(app, settings: new { holdMassDeprovision = true });
            var tokens = new List<string>();
            var leavers = new List<string>();
            for (var i = 0; i < 40; i++)
            {
                var id = (await directory.CreateUserAsync($"u{i}.{Guid.NewGuid():N}@example.com"))["id"]!.GetValue<string>();
                if (i < 20)
                {
                    leavers.Add(id);
                    tokens.Add(await app.IssueAccessTokenAsync(directory.TenantId, id));
                }
            }
            await app.DrainQueuesAsync();
            foreach (var id in leavers)
                Assert.True((await directory.PatchAsync($"/Users/{id}", """[{"op":"replace","path":"active","value":false}]""")).IsSuccessStatusCode);
            await app.DrainQueuesAsync();
            foreach (var token in tokens) Assert.Equal(HttpStatusCode.OK, await app.UserInfoStatusAsync(token));   // held
            return (directory, tokens);
        }

        var (released, releasedTokens) = await HoldAsync();
        var (cancelled, keptTokens) = await HoldAsync();

        var page = await NewPageAsync();
        await ConsoleBrowser.SignInAsync(page, console, path: "/console/holds");
        var rows = page.Locator("#holds tr.hold");
        Assert.Equal(2, await rows.CountAsync());
        var releasedRow = rows.Filter(new() { HasText = released.DirectoryId });
        Assert.Contains("20", await releasedRow.Locator("strong").TextContentAsync());
        await ConsoleBrowser.ScreenshotAsync(page, "holds");

        // A forged Release: the 403 page, and the hold still holds.
        await page.EvalOnSelectorAllAsync("input[name=csrf]", "inputs => inputs.forEach(i => i.value = 'forged')");
        var forged = await page.RunAndWaitForResponseAsync(() => releasedRow.GetByRole(AriaRole.Button, new() { Name = "Release" }).ClickAsync(),
            response => response.Url.EndsWith("/release", StringComparison.Ordinal));
        Assert.Equal(403, forged.Status);
        await app.DrainQueuesAsync();
        foreach (var token in releasedTokens) Assert.Equal(HttpStatusCode.OK, await app.UserInfoStatusAsync(token));
        Assert.Empty(await OperatorRowsAsync(console, released.TenantId, "deprovision_hold.release"));

        await page.GotoAsync(console.Url("/console/holds"));
        await releasedRow.GetByRole(AriaRole.Button, new() { Name = "Release" }).ClickAsync();
        await page.WaitForURLAsync(url => url.EndsWith("?done=released", StringComparison.Ordinal));
        await page.Locator("#holds tr.hold").Filter(new() { HasText = cancelled.DirectoryId })
            .GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await page.WaitForURLAsync(url => url.EndsWith("?done=cancelled", StringComparison.Ordinal));
        Assert.Equal(1, await page.Locator("#no-holds").CountAsync());
        await app.DrainQueuesAsync();

        foreach (var token in releasedTokens) Assert.Equal(HttpStatusCode.Unauthorized, await app.UserInfoStatusAsync(token));
        foreach (var token in keptTokens) Assert.Equal(HttpStatusCode.OK, await app.UserInfoStatusAsync(token));
        var holds = await console.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/directories/{released.DirectoryId}/holds");
        Assert.Equal("released", holds!["data"]![0]!["status"]!.GetValue<string>());
        Assert.Single(await OperatorRowsAsync(console, released.TenantId, "deprovision_hold.release"));
        Assert.Single(await OperatorRowsAsync(console, cancelled.TenantId, "deprovision_hold.cancel"));
    }
}
