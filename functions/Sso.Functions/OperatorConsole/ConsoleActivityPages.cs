using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Audit;
using Sso.Functions.Outbox;
using Sso.Functions.Storage.Queues;
using Sso.Functions.Webhooks;
using static Sso.Functions.OperatorConsole.ConsoleLayout;

namespace Sso.Functions.OperatorConsole;

/// <summary>
/// The HTML of the overview, activity, events, dead-letter and hold pages: pure, model to string,
/// every value through <see cref="ConsoleLayout.E"/>. The page shell is <see cref="ConsoleLayout.Page"/>'s.
/// </summary>
public static class ConsoleActivityPages
{
    public const string ActivityPath = Base + "/activity";
    public const string EventsPath = Base + "/events";
    public const string DeadLettersPath = Base + "/dead-letters";
    public const string HoldsPath = Base + "/holds";

    public static string ReplayPath(string queue, string deadLetterId) => $"{DeadLettersPath}/{Q(queue)}/{Q(deadLetterId)}/replay";

    public static string DecidePath(string directoryId, string holdId, string decision) => $"{HoldsPath}/{Q(directoryId)}/{Q(holdId)}/{decision}";

    private static string Str(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var s) ? s : node?.ToJsonString() ?? "";

    private static DateTimeOffset? At(JsonNode? node) =>
        DateTimeOffset.TryParse(Str(node), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;

    // ---- overview ----

    public sealed record OverviewModel(
        IReadOnlyList<ActivityChart.Day> SignIns, IReadOnlyList<ActivityChart.Day> Scim, IReadOnlyList<TenantProblem> Problems, string? TenantId);

    public static string Overview(OverviewModel model)
    {
        var html = new StringBuilder();
        html.Append("<p class=\"muted\">Last 14 days, ").Append(model.TenantId is null ? "all tenants" : "tenant " + E(model.TenantId))
            .Append(", in UTC days. Green: succeeded; red: refused.</p>")
            .Append("<div class=\"grid2\">")
            .Append("<section class=\"panel\" id=\"signins-chart\"><h2>Sign-ins per day</h2>")
            .Append(ActivityChart.Svg("Sign-ins per day, last 14 days", "signed in", "refused", model.SignIns))
            .Append("<p class=\"muted\">").Append(model.SignIns.Sum(d => d.Success)).Append(" signed in, ")
            .Append(model.SignIns.Sum(d => d.Failure)).Append(" refused</p></section>")
            .Append("<section class=\"panel\" id=\"scim-chart\"><h2>SCIM requests per day</h2>")
            .Append(ActivityChart.Svg("SCIM requests per day, last 14 days", "accepted", "refused", model.Scim))
            .Append("<p class=\"muted\">").Append(model.Scim.Sum(d => d.Success)).Append(" accepted, ")
            .Append(model.Scim.Sum(d => d.Failure)).Append(" refused</p></section></div>");
        html.Append("<section class=\"panel\" id=\"problems\"><h2>Tenants with problems</h2>");
        if (model.Problems.Count == 0) return html.Append("<p class=\"muted\">Nothing needs attention.</p></section>").ToString();
        html.Append("<table><thead><tr><th>Tenant</th><th>Problem</th><th>Detail</th></tr></thead><tbody>");
        foreach (var problem in model.Problems)
        {
            html.Append("<tr data-kind=\"").Append(E(problem.Kind)).Append("\"><td>")
                .Append(problem.TenantId is null ? "<span class=\"muted\">all tenants</span>"
                    : $"<a href=\"{Base}/tenants/{Q(problem.TenantId)}\">{E(problem.TenantName ?? problem.TenantId)}</a>")
                .Append("</td><td>").Append(Badge(problem.Severity, problem.Kind switch
                {
                    TenantProblems.ExpiringCertificate => "certificate expiring",
                    TenantProblems.UnverifiedDomain => "unverified domain",
                    TenantProblems.FailingWebhook => "failing webhook",
                    _ => "deprovisioning held",
                }))
                .Append("</td><td>").Append(problem.Link is null ? E(problem.Detail) : $"<a href=\"{E(problem.Link)}\">{E(problem.Detail)}</a>")
                .Append("</td></tr>");
        }
        return html.Append("</tbody></table></section>").ToString();
    }

    // ---- sign-ins and SCIM ----

    public sealed record ActivityFilter(string? TenantId, string? Type, string? Result, string? Since, string? Until);

    public sealed record ActivityModel(ActivityFilter Filter, IReadOnlyList<(string Id, string Name)> Tenants, AuditPage? Page, string? Error);

    public static string ActivityQuery(ActivityFilter filter, string? after = null)
    {
        var parts = new List<string>();
        void Add(string name, string? value)
        {
            if (value is { Length: > 0 }) parts.Add(name + "=" + Q(value));
        }
        Add("tenant", filter.TenantId);
        Add("type", filter.Type);
        Add("result", filter.Result);
        Add("since", filter.Since);
        Add("until", filter.Until);
        Add("after", after);
        return parts.Count == 0 ? "" : "?" + string.Join("&", parts);
    }

    public static string Activity(ActivityModel model)
    {
        var filter = model.Filter;
        var html = new StringBuilder();
        html.Append("<form method=\"get\" action=\"").Append(ActivityPath).Append("\" class=\"search\" id=\"activity-filter\">")
            .Append("<label>Tenant <select name=\"tenant\"><option value=\"\">Choose a tenant</option>");
        foreach (var (id, name) in model.Tenants)
            html.Append("<option value=\"").Append(E(id)).Append('"').Append(id == filter.TenantId ? " selected" : "").Append('>')
                .Append(E(name)).Append(" (").Append(E(id)).Append(")</option>");
        html.Append("</select></label>");
        void Select(string name, string label, string? current, IEnumerable<(string Value, string Label)> options)
        {
            html.Append("<label>").Append(label).Append(" <select name=\"").Append(name).Append("\"><option value=\"\">any</option>");
            foreach (var (value, text) in options)
                html.Append("<option value=\"").Append(E(value)).Append('"').Append(value == current ? " selected" : "").Append('>')
                    .Append(E(text)).Append("</option>");
            html.Append("</select></label>");
        }
        Select("type", "Type", filter.Type, [(AuditTypes.SignInAttempt, "sign-ins"), (AuditTypes.ScimRequest, "SCIM requests"),
            (AuditTypes.ManagementChange, "management changes")]);
        Select("result", "Result", filter.Result, [("success", "success"), ("failure", "refused")]);
        html.Append("<label>From <input type=\"text\" name=\"since\" placeholder=\"2026-12-01\" value=\"").Append(E(filter.Since)).Append("\"></label>")
            .Append("<label>Until <input type=\"text\" name=\"until\" placeholder=\"2026-12-07T12:00Z\" value=\"").Append(E(filter.Until)).Append("\"></label>")
            .Append("<button type=\"submit\">Show</button></form>");
        if (model.Error is not null) html.Append(Alert("error", model.Error));
        if (model.Page is not { } page) return html.ToString();
        if (page.Rows.Count == 0) return html.Append("<p class=\"muted\" id=\"no-activity\">No rows match.</p>").ToString();
        html.Append("<table id=\"activity\"><thead><tr><th>When</th><th>Type</th><th>What</th><th>Result</th><th>Details</th></tr></thead><tbody>");
        foreach (var row in page.Rows)
        {
            var result = Str(row["result"]);
            var reason = row["reason"] is null ? null : Str(row["reason"]);
            var type = Str(row["type"]);
            html.Append("<tr class=\"audit-row\" data-result=\"").Append(E(result)).Append("\" data-type=\"").Append(E(type)).Append("\"><td>")
                .Append(Time(At(row["occurredAt"]))).Append("</td><td>").Append(E(type)).Append("</td><td>").Append(E(Str(row["action"])));
            if (row["target"] is JsonObject target) html.Append(" <code>").Append(E(Str(target["id"]))).Append("</code>");
            html.Append("<div class=\"hint\">by ").Append(E(Str(row["actor"]?["kind"]))).Append(' ').Append(E(Str(row["actor"]?["id"]))).Append("</div>")
                .Append("</td><td>").Append(Badge(result == "success" ? "ok" : "bad", result == "success" ? "success" : "refused"));
            if (reason is not null) html.Append(" <code class=\"reason\">").Append(E(reason)).Append("</code>");
            html.Append("</td><td>");
            var facts = new List<string>();
            foreach (var name in new[] { "failureKind", "connectionId", "emailDomain", "directoryId", "method", "path", "status" })
                if (row[name] is { } value) facts.Add($"{name}: <code>{E(Str(value))}</code>");
            html.Append(string.Join("<br>", facts));
            if (type == AuditTypes.SignInAttempt && RefusalGuidance.For(reason) is { } advice)
                html.Append("<p class=\"guidance\"><strong>What to do:</strong> ").Append(E(advice)).Append("</p>");
            html.Append("</td></tr>");
        }
        html.Append("</tbody></table>");
        if (page.NextCursor is not null)
            html.Append("<p class=\"pager\"><a class=\"button secondary\" href=\"").Append(ActivityPath)
                .Append(E(ActivityQuery(filter, page.NextCursor))).Append("\">Older</a></p>");
        return html.ToString();
    }

    // ---- events and webhooks ----

    public sealed record WebhookModel(WebhookView Webhook, IReadOnlyList<WebhookDeliveryAttempt> Attempts);

    public sealed record EventsModel(string? TenantId, string? Type, IReadOnlyList<EventRecord> Events, string? NextCursor, string? Error,
        IReadOnlyList<WebhookModel> Webhooks);

    public static string Events(EventsModel model)
    {
        var html = new StringBuilder();
        html.Append("<form method=\"get\" action=\"").Append(EventsPath).Append("\" class=\"search\" id=\"events-filter\">")
            .Append("<label>Tenant id <input type=\"text\" name=\"tenant\" value=\"").Append(E(model.TenantId)).Append("\" placeholder=\"ten_…\"></label>")
            .Append("<label>Type <input type=\"text\" name=\"type\" value=\"").Append(E(model.Type)).Append("\" placeholder=\"dsync.user.created\"></label>")
            .Append("<button type=\"submit\">Show</button></form>");
        if (model.Error is not null) html.Append(Alert("error", model.Error));
        html.Append("<section class=\"panel\"><h2>Events</h2>");
        if (model.Events.Count == 0) html.Append("<p class=\"muted\">No events on this page.</p>");
        else
        {
            html.Append("<table id=\"events\"><thead><tr><th>When</th><th>Type</th><th>Tenant</th><th>Id</th></tr></thead><tbody>");
            foreach (var e in model.Events)
                html.Append("<tr class=\"event\"><td>").Append(Time(e.OccurredAt)).Append("</td><td>").Append(E(e.Type)).Append("</td><td>")
                    .Append("<a href=\"").Append(EventsPath).Append("?tenant=").Append(Q(e.TenantId)).Append("\">").Append(E(e.TenantId)).Append("</a>")
                    .Append("</td><td><code>").Append(E(e.Id)).Append("</code></td></tr>");
            html.Append("</tbody></table>");
        }
        if (model.NextCursor is not null)
            html.Append("<p class=\"pager\"><a class=\"button secondary\" href=\"").Append(EventsPath).Append('?')
                .Append(E(string.Join("&", new[] { ("tenant", model.TenantId), ("type", model.Type), ("after", model.NextCursor) }
                    .Where(p => p.Item2 is { Length: > 0 }).Select(p => p.Item1 + "=" + Q(p.Item2)))))
                .Append("\">Next</a></p>");
        html.Append("</section><section class=\"panel\"><h2>Webhooks</h2>");
        if (model.Webhooks.Count == 0) return html.Append("<p class=\"muted\">No webhooks.</p></section>").ToString();
        foreach (var (webhook, attempts) in model.Webhooks)
        {
            html.Append("<h3 id=\"").Append(E(webhook.Id)).Append("\">").Append(E(webhook.Url)).Append("</h3><p>")
                .Append(webhook.Enabled ? Badge(webhook.ConsecutiveFailures > 0 ? "warn" : "ok", webhook.ConsecutiveFailures > 0
                    ? $"failing: {webhook.ConsecutiveFailures} in a row" : "enabled") : Badge("bad", "disabled: " + (webhook.DisabledReason ?? "by an admin")))
                .Append(" <span class=\"muted\">").Append(webhook.TenantId is null ? "all tenants" : "tenant " + E(webhook.TenantId))
                .Append(", ").Append(webhook.EventTypes.Length == 0 ? "every event" : E(string.Join(", ", webhook.EventTypes))).Append("</span></p>");
            if (attempts.Count == 0)
            {
                html.Append("<p class=\"muted\">No deliveries yet.</p>");
                continue;
            }
            html.Append("<table class=\"deliveries\"><thead><tr><th>When</th><th>Event</th><th>Attempt</th><th>Outcome</th></tr></thead><tbody>");
            foreach (var attempt in attempts)
                html.Append("<tr><td>").Append(Time(attempt.AttemptedAt)).Append("</td><td>").Append(E(attempt.EventType))
                    .Append(" <code>").Append(E(attempt.EventId)).Append("</code></td><td>").Append(attempt.Attempt).Append("</td><td>")
                    .Append(Badge(attempt.Outcome == WebhookDeliveryWorker.Delivered ? "ok" : "bad", attempt.Outcome))
                    .Append(attempt.HttpStatus is { } status ? $" HTTP {status}" : "")
                    .Append(attempt.Error is { } error ? " <span class=\"muted\">" + E(error) + "</span>" : "").Append("</td></tr>");
            html.Append("</tbody></table>");
        }
        return html.Append("</section>").ToString();
    }

    // ---- dead letters ----

    public static string DeadLetters(IReadOnlyList<DeadLetter> deadLetters, string csrfToken)
    {
        if (deadLetters.Count == 0) return "<p class=\"muted\" id=\"no-dead-letters\">No dead letters: every piece of work was delivered or is still being retried.</p>";
        var html = new StringBuilder("<p class=\"muted\">Work that failed every delivery. Replay sends it back to its queue, as it was.</p>")
            .Append("<table id=\"dead-letters\"><thead><tr><th>Queue</th><th>Kind</th><th>Message</th><th>Why</th><th>Deliveries</th><th>Since</th><th></th></tr></thead><tbody>");
        foreach (var letter in deadLetters)
            html.Append("<tr class=\"dead-letter\" data-id=\"").Append(E(letter.Id)).Append("\"><td>").Append(E(letter.Queue)).Append("</td><td>")
                .Append(E(letter.Kind)).Append("</td><td><code>").Append(E(letter.MessageId)).Append("</code></td><td>").Append(E(letter.Reason))
                .Append("</td><td>").Append(letter.DeliveryCount?.ToString(CultureInfo.InvariantCulture) ?? "—").Append("</td><td>")
                .Append(Time(letter.EnqueuedAt)).Append("</td><td>")
                .Append(ButtonForm(ReplayPath(letter.Queue, letter.Id), csrfToken, "Replay")).Append("</td></tr>");
        return html.Append("</tbody></table>").ToString();
    }

    // ---- holds ----

    public static string Holds(IReadOnlyList<JsonObject> holds, IReadOnlyDictionary<string, string> tenantNames, string csrfToken)
    {
        if (holds.Count == 0) return "<p class=\"muted\" id=\"no-holds\">No deprovisioning is held.</p>";
        var html = new StringBuilder("<p class=\"muted\">A directory deprovisioned more of its users at once than its tenant allows, ")
            .Append("so the deprovisionings and their webhooks are parked. Release runs all of them, in order; Cancel runs none (the users keep their access).</p>")
            .Append("<table id=\"holds\"><thead><tr><th>Tenant</th><th>Directory</th><th>Users</th><th>Since</th><th>Status</th><th></th></tr></thead><tbody>");
        foreach (var hold in holds)
        {
            var directoryId = Str(hold["directoryId"]);
            var holdId = Str(hold["id"]);
            var users = hold["users"]?.AsArray() ?? [];
            html.Append("<tr class=\"hold\" data-id=\"").Append(E(holdId)).Append("\"><td><a href=\"").Append(Base).Append("/tenants/")
                .Append(Q(Str(hold["tenantId"]))).Append("\">").Append(E(tenantNames.GetValueOrDefault(Str(hold["tenantId"])) ?? Str(hold["tenantId"])))
                .Append("</a></td><td><code>").Append(E(directoryId))
                .Append("</code></td><td><strong>").Append(E(Str(hold["deprovisionedUsers"]))).Append("</strong> of ").Append(E(Str(hold["directoryUsers"])))
                .Append("<div class=\"hint\">").Append(E(string.Join(", ", users.Take(5).Select(u => Str(u?["userName"]) is { Length: > 0 } name ? name : Str(u?["id"])))))
                .Append(users.Count > 5 ? $" and {users.Count - 5} more" : "").Append("</div></td><td>").Append(Time(At(hold["triggeredAt"])))
                .Append("</td><td>").Append(Badge("warn", Str(hold["status"]))).Append("</td><td>")
                .Append(ButtonForm(DecidePath(directoryId, holdId, "release"), csrfToken, "Release", "danger")).Append(' ')
                .Append(ButtonForm(DecidePath(directoryId, holdId, "cancel"), csrfToken, "Cancel", "secondary")).Append("</td></tr>");
        }
        return html.Append("</tbody></table>").ToString();
    }
}
