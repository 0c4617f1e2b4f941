using Sso.Functions.Audit;
using Sso.Functions.Deprovisioning;
using Sso.Functions.Hosting;
using Sso.Functions.Outbox;

namespace Sso.Functions.OperatorConsole;

/// <summary>
/// The console's operations pages: the overview (charts and tenants with problems), the audit
/// trail, events and webhooks, dead letters and mass-deprovisioning holds. Each page passes
/// <see cref="ConsoleSessionGate"/>, reads its model through <see cref="ConsoleActivity"/> (over the operations the
/// management API calls: <see cref="AuditTrail"/>, <see cref="EventFeed"/>, <see cref="DeprovisionHolds"/>) and changes
/// through those operations (<see cref="DeadLetters"/>, <see cref="DeprovisionHolds"/>),
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

    private static ConsoleActivity Activity(HttpContext context) => context.RequestServices.GetRequiredService<ConsoleActivity>();

    private static async Task<IResult> OverviewAsync(HttpContext context)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        var model = await Activity(context).OverviewAsync(Query(context, "tenant"), context.RequestAborted);
        return ConsoleResults.Page(signedIn, 200, "Overview", ConsoleSection.Overview, ConsoleActivityPages.Overview(model));
    }

    private static async Task<IResult> ActivityAsync(HttpContext context)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        var filter = new ConsoleActivityPages.ActivityFilter(Query(context, "tenant"), Query(context, "type"), Query(context, "result"),
            Query(context, "since"), Query(context, "until"));
        var view = await Activity(context).ActivityAsync(filter, Query(context, "after"), context.RequestAborted);
        if (view.Tenant is { } tenant) context.Items[RequestPipeline.TenantItem] = tenant.Value;
        return ConsoleResults.Page(signedIn, view.Status, "Sign-ins & SCIM", ConsoleSection.SignIns, ConsoleActivityPages.Activity(view.Model));
    }

    private static async Task<IResult> EventsAsync(HttpContext context)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        var view = await Activity(context).EventsAsync(Query(context, "tenant"), Query(context, "type"), Query(context, "after"), context.RequestAborted);
        return ConsoleResults.Page(signedIn, view.Status, "Events & webhooks", ConsoleSection.Events, ConsoleActivityPages.Events(view.Model));
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
        var model = await Activity(context).HoldsAsync(context.RequestAborted);
        return ConsoleResults.Page(signedIn, status, "Mass-deprovisioning holds", ConsoleSection.Holds,
            ConsoleActivityPages.Holds(model.Holds, model.TenantNames, signedIn.CsrfToken), flashHtml);
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
