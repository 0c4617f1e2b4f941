using Sso.Functions.Audit;
using Sso.Functions.Deprovisioning;
using Sso.Functions.Hosting;
using Sso.Functions.Outbox;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;
using Sso.Functions.Webhooks;

namespace Sso.Functions.OperatorConsole;

/// <summary>
/// The console's operations pages: the overview (charts and tenants with problems), the audit
/// trail, events and webhooks, dead letters and mass-deprovisioning holds. Each page passes
/// <see cref="ConsoleSessionGate"/> and calls the operation the management API calls
/// (<see cref="AuditTrail"/>, <see cref="EventFeed"/>, <see cref="DeadLetters"/>, <see cref="DeprovisionHolds"/>),
/// so every refusal carries the API's message. Every action is a CSRF-checked form, audited with
/// the operator as actor; a refused form changes and records nothing.
/// </summary>
public static class ConsoleActivityEndpoints
{
    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("ConsoleOverview", ConsoleLayout.Base, ["GET"], OverviewAsync),
        new("ConsoleActivity", ConsoleActivityPages.ActivityPath, ["GET"], ActivityAsync),
        new("ConsoleEvents", ConsoleActivityPages.EventsPath, ["GET"], EventsAsync),
        new("ConsoleDeadLetters", ConsoleActivityPages.DeadLettersPath, ["GET"], DeadLettersAsync),
        new("ConsoleReplayDeadLetter", ConsoleActivityPages.DeadLettersPath + "/{queue}/{deadLetterId}/replay", ["POST"], ReplayAsync),
        new("ConsoleDeprovisionHolds", ConsoleActivityPages.HoldsPath, ["GET"], HoldsAsync),
        new("ConsoleReleaseDeprovisionHold", ConsoleActivityPages.HoldsPath + "/{directoryId}/{holdId}/release", ["POST"],
            context => DecideAsync(context, MassDeprovisionGuard.Decision.Release)),
        new("ConsoleCancelDeprovisionHold", ConsoleActivityPages.HoldsPath + "/{directoryId}/{holdId}/cancel", ["POST"],
            context => DecideAsync(context, MassDeprovisionGuard.Decision.Cancel)),
    ];

    private static readonly IReadOnlyDictionary<string, string> Done = new Dictionary<string, string>
    {
        ["replayed"] = "The dead letter was sent back to its queue.",
        ["released"] = "The hold was released: the parked deprovisionings and webhooks run now, in order.",
        ["cancelled"] = "The hold was cancelled: nothing it parked will run.",
    };

    private static string? Query(HttpContext context, string name) =>
        context.Request.Query[name].ToString() is { Length: > 0 } value ? value : null;

    private static async Task<IResult> OverviewAsync(HttpContext context)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        var services = context.RequestServices;
        var tenantId = Query(context, "tenant") is { } raw && TenantId.TryParse(raw, out var parsed) ? parsed.Value : null;
        var today = DateOnly.FromDateTime(services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime);
        var counts = services.GetRequiredService<DailyActivityStore>()
            .ReadAsync(tenantId ?? DailyActivityStore.AllTenants, today.AddDays(-13), context.RequestAborted);
        var problems = services.GetRequiredService<TenantProblems>().ListAsync(context.RequestAborted);
        await Task.WhenAll(counts, problems);
        var model = new ConsoleActivityPages.OverviewModel(
            ActivityChart.LastDays(counts.Result, AuditTypes.SignInAttempt, today),
            ActivityChart.LastDays(counts.Result, AuditTypes.ScimRequest, today),
            tenantId is null ? problems.Result : problems.Result.Where(p => p.TenantId == tenantId).ToList(),
            tenantId);
        return ConsoleResults.Page(signedIn, 200, "Overview", ConsoleSection.Overview, ConsoleActivityPages.Overview(model));
    }

    private static async Task<IResult> ActivityAsync(HttpContext context)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        var services = context.RequestServices;
        var filter = new ConsoleActivityPages.ActivityFilter(Query(context, "tenant"), Query(context, "type"), Query(context, "result"),
            Query(context, "since"), Query(context, "until"));
        var (tenants, _) = await services.GetRequiredService<TenantStore>().ListAsync(null, 200, context.RequestAborted);
        var choices = tenants.Select(t => (t.Id.Value, t.Name)).ToList();
        AuditPage? page = null;
        string? error = null;
        var status = 200;
        if (filter.TenantId is { } rawTenant)
        {
            var trail = services.GetRequiredService<AuditTrail>();
            var query = AuditTrail.ParseQuery(filter.Type, Query(context, "after"), null, filter.Result, filter.Since, filter.Until);
            var tenant = await trail.FindTenantAsync(rawTenant, context.RequestAborted);
            if (!tenant.IsSuccess || !query.IsSuccess)
            {
                var problem = tenant.IsSuccess ? query.Error : tenant.Error;
                (error, status) = (problem.Detail, problem.Status);
            }
            else
            {
                context.Items[RequestPipeline.TenantItem] = tenant.Value.Value;
                page = await trail.ReadAsync(tenant.Value, query.Value, context.RequestAborted);
            }
        }
        return ConsoleResults.Page(signedIn, status, "Sign-ins & SCIM", ConsoleSection.SignIns,
            ConsoleActivityPages.Activity(new ConsoleActivityPages.ActivityModel(filter, choices, page, error)));
    }

    private const int DeliveriesShown = 10;

    private static async Task<IResult> EventsAsync(HttpContext context)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        var services = context.RequestServices;
        var tenantId = Query(context, "tenant");
        var type = Query(context, "type");
        var parsed = EventFeed.ParseQuery(tenantId, Query(context, "after"), null);
        IReadOnlyList<EventRecord> events = [];
        string? next = null, error = null;
        var status = 200;
        if (parsed.TryGetValue(out var query, out var problem))
        {
            var page = await services.GetRequiredService<EventFeed>().ReadAsync(query, context.RequestAborted);
            // The type narrows the page that was read; the cursor moves on over the rest.
            events = type is null ? page.Events : page.Events.Where(e => e.Type == type).ToList();
            next = page.Events.Count > 0 ? page.NextCursor : null;
        }
        else (error, status) = (problem.Detail, problem.Status);

        var store = services.GetRequiredService<WebhookStore>();
        var webhooks = (await store.ListAsync(context.RequestAborted))
            .Where(w => query?.TenantId is null || w.TenantId is null || w.TenantId == query.TenantId)
            .OrderBy(w => w.CreatedAt).ToList();
        var attempts = await Task.WhenAll(webhooks.Select(w => store.ListAttemptsAsync(w.Id, DeliveriesShown, context.RequestAborted)));
        var model = new ConsoleActivityPages.EventsModel(query?.TenantId ?? tenantId, type, events, next, error,
            webhooks.Select((w, i) => new ConsoleActivityPages.WebhookModel(w.ToView(), attempts[i])).ToList());
        return ConsoleResults.Page(signedIn, status, "Events & webhooks", ConsoleSection.Events, ConsoleActivityPages.Events(model));
    }

    private static async Task<IResult> DeadLettersAsync(HttpContext context)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        return await DeadLettersPageAsync(context, signedIn, 200, ConsoleLayout.Flash(Query(context, "done"), Done));
    }

    private static async Task<IResult> DeadLettersPageAsync(HttpContext context, SignedInOperator signedIn, int status, string? flashHtml)
    {
        var listed = await context.RequestServices.GetRequiredService<DeadLetters>().ListAsync(null, DeadLetters.MaxLimit, context.RequestAborted);
        return ConsoleResults.Page(signedIn, status, "Dead letters", ConsoleSection.DeadLetters,
            ConsoleActivityPages.DeadLetters(listed.Value, signedIn.CsrfToken), flashHtml);
    }

    private static async Task<IResult> ReplayAsync(HttpContext context)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        if (!(await ConsoleSessionGate.ReadFormAsync(context, signedIn)).TryGetValue(out _, out refusal)) return refusal;
        var id = context.RouteString("deadLetterId");
        var replayed = await context.RequestServices.GetRequiredService<DeadLetters>()
            .ReplayAsync(context.RouteString("queue"), id, context.RequestAborted);
        await ConsoleResults.AuditAsync(context, signedIn, null, RequestAudit.ActionOf("ReplayDeadLetter"), new AuditTarget("dead_letter", id), [],
            replayed.IsSuccess ? null : replayed.Error);
        return replayed.IsSuccess
            ? ConsoleResults.SeeOther(ConsoleActivityPages.DeadLettersPath + "?done=replayed")
            : await DeadLettersPageAsync(context, signedIn, replayed.Error.Status, ConsoleLayout.Alert("error", replayed.Error.Detail));
    }

    private static async Task<IResult> HoldsAsync(HttpContext context)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        return await HoldsPageAsync(context, signedIn, 200, ConsoleLayout.Flash(Query(context, "done"), Done));
    }

    private static async Task<IResult> HoldsPageAsync(HttpContext context, SignedInOperator signedIn, int status, string? flashHtml)
    {
        var holds = await context.RequestServices.GetRequiredService<DeprovisionHolds>().ListUndecidedAsync(context.RequestAborted);
        var tenants = context.RequestServices.GetRequiredService<TenantStore>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tenantId in holds.Select(h => h["tenantId"]?.GetValue<string>()).OfType<string>().Distinct())
            if (TenantId.TryParse(tenantId, out var id) && await tenants.FindCachedAsync(id, context.RequestAborted) is { } tenant)
                names[tenantId] = tenant.Name;
        return ConsoleResults.Page(signedIn, status, "Mass-deprovisioning holds", ConsoleSection.Holds,
            ConsoleActivityPages.Holds(holds, names, signedIn.CsrfToken), flashHtml);
    }

    private static async Task<IResult> DecideAsync(HttpContext context, MassDeprovisionGuard.Decision decision)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        if (!(await ConsoleSessionGate.ReadFormAsync(context, signedIn)).TryGetValue(out _, out refusal)) return refusal;
        var holds = context.RequestServices.GetRequiredService<DeprovisionHolds>();
        var holdId = context.RouteString("holdId");
        var directory = await holds.FindDirectoryAsync(context.RouteString("directoryId"), context.RequestAborted);
        if (!directory.IsSuccess)
            return await HoldsPageAsync(context, signedIn, directory.Error.Status, ConsoleLayout.Alert("error", directory.Error.Detail));
        var tenantId = directory.Value.TenantId.Value;
        context.Items[RequestPipeline.TenantItem] = tenantId;
        var decided = await holds.DecideAsync(directory.Value, holdId, decision, context.RequestAborted);
        var functionName = decision == MassDeprovisionGuard.Decision.Release ? "ReleaseDeprovisionHold" : "CancelDeprovisionHold";
        await ConsoleResults.AuditAsync(context, signedIn, tenantId, RequestAudit.ActionOf(functionName), new AuditTarget("hold", holdId), [],
            decided.IsSuccess ? null : decided.Error);
        return decided.IsSuccess
            ? ConsoleResults.SeeOther(ConsoleActivityPages.HoldsPath + "?done=" + (decision == MassDeprovisionGuard.Decision.Release ? "released" : "cancelled"))
            : await HoldsPageAsync(context, signedIn, decided.Error.Status, ConsoleLayout.Alert("error", decided.Error.Detail));
    }
}
