using System.Text.Json.Nodes;
using Sso.Functions.Audit;
using Sso.Functions.Deprovisioning;
using Sso.Functions.Outbox;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;
using Sso.Functions.Webhooks;
using static Sso.Functions.OperatorConsole.ConsoleActivityPages;

namespace Sso.Functions.OperatorConsole;

/// <summary>A page's model and the status it answers with (the API's status when a filter is refused).</summary>
public sealed record ConsoleView<TModel>(TModel Model, int Status);

/// <summary>The audit page's model; <paramref name="Tenant"/> is the tenant whose trail was read, for the request's own audit row.</summary>
public sealed record ActivityView(ActivityModel Model, int Status, TenantId? Tenant);

/// <summary>The undecided mass-deprovisioning holds and the names of their tenants.</summary>
public sealed record HoldsModel(IReadOnlyList<JsonObject> Holds, IReadOnlyDictionary<string, string> TenantNames);

/// <summary>
/// The reads behind the console's operations pages (<see cref="ConsoleActivityEndpoints"/> renders them):
/// each page's model from the operations the management API reads through (<see cref="AuditTrail"/>,
/// <see cref="EventFeed"/>, <see cref="DeprovisionHolds"/>) and the stores of what the API lists.
/// A refused filter is the API's message and status on the page. No HTTP, no change.
/// </summary>
public sealed class ConsoleActivity(DailyActivityStore dailyActivity, TenantProblems problems, TenantStore tenants, AuditTrail trail,
    EventFeed feed, WebhookStore webhooks, DeprovisionHolds holds, TimeProvider clock)
{
    /// <summary>How many days the overview's charts show, today included.</summary>
    public const int ChartDays = 14;

    /// <summary>How many tenants the audit page offers to choose from.</summary>
    public const int TenantChoices = 200;

    /// <summary>How many recent deliveries the events page shows per webhook.</summary>
    public const int DeliveriesShown = 10;

    /// <param name="rawTenantId">The tenant to narrow to; a malformed id shows every tenant.</param>
    public async Task<OverviewModel> OverviewAsync(string? rawTenantId, CancellationToken cancellationToken)
    {
        var tenantId = rawTenantId is not null && TenantId.TryParse(rawTenantId, out var parsed) ? parsed.Value : null;
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var counts = dailyActivity.ReadAsync(tenantId ?? DailyActivityStore.AllTenants, today.AddDays(-(ChartDays - 1)), cancellationToken);
        var listed = problems.ListAsync(cancellationToken);
        await Task.WhenAll(counts, listed);
        return new OverviewModel(
            ActivityChart.LastDays(counts.Result, AuditTypes.SignInAttempt, today),
            ActivityChart.LastDays(counts.Result, AuditTypes.ScimRequest, today),
            tenantId is null ? listed.Result : listed.Result.Where(p => p.TenantId == tenantId).ToList(),
            tenantId);
    }

    /// <summary>The audit page: the tenants to choose from and, once a tenant is chosen, a page of its trail.</summary>
    public async Task<ActivityView> ActivityAsync(ActivityFilter filter, string? after, CancellationToken cancellationToken)
    {
        var (listed, _) = await tenants.ListAsync(null, TenantChoices, cancellationToken);
        var choices = listed.Select(t => (t.Id.Value, t.Name)).ToList();
        if (filter.TenantId is not { } rawTenant) return new ActivityView(new ActivityModel(filter, choices, null, null), 200, null);
        var query = AuditTrail.ParseQuery(filter.Type, after, null, filter.Result, filter.Since, filter.Until);
        var tenant = await trail.FindTenantAsync(rawTenant, cancellationToken);
        if (!tenant.IsSuccess || !query.IsSuccess)
        {
            var problem = tenant.IsSuccess ? query.Error : tenant.Error;
            return new ActivityView(new ActivityModel(filter, choices, null, problem.Detail), problem.Status, null);
        }
        var page = await trail.ReadAsync(tenant.Value, query.Value, cancellationToken);
        return new ActivityView(new ActivityModel(filter, choices, page, null), 200, tenant.Value);
    }

    /// <summary>The events page: a page of the feed (narrowed to <paramref name="type"/>) and the webhooks with their latest deliveries.</summary>
    public async Task<ConsoleView<EventsModel>> EventsAsync(string? tenantId, string? type, string? after, CancellationToken cancellationToken)
    {
        var parsed = EventFeed.ParseQuery(tenantId, after, null);
        IReadOnlyList<EventRecord> events = [];
        string? next = null, error = null;
        var status = 200;
        if (parsed.TryGetValue(out var query, out var problem))
        {
            var page = await feed.ReadAsync(query, cancellationToken);
            // The type narrows the page that was read; the cursor moves on over the rest.
            events = type is null ? page.Events : page.Events.Where(e => e.Type == type).ToList();
            next = page.Events.Count > 0 ? page.NextCursor : null;
        }
        else (error, status) = (problem.Detail, problem.Status);

        var shown = (await webhooks.ListAsync(cancellationToken))
            .Where(w => query?.TenantId is null || w.TenantId is null || w.TenantId == query.TenantId)
            .OrderBy(w => w.CreatedAt).ToList();
        var attempts = await Task.WhenAll(shown.Select(w => webhooks.ListAttemptsAsync(w.Id, DeliveriesShown, cancellationToken)));
        return new ConsoleView<EventsModel>(new EventsModel(query?.TenantId ?? tenantId, type, events, next, error,
            shown.Select((w, i) => new WebhookModel(w.ToView(), attempts[i])).ToList()), status);
    }

    /// <summary>The undecided holds, each with its tenant's name where the tenant still exists.</summary>
    public async Task<HoldsModel> HoldsAsync(CancellationToken cancellationToken)
    {
        var undecided = await holds.ListUndecidedAsync(cancellationToken);
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tenantId in undecided.Select(h => h["tenantId"]?.GetValue<string>()).OfType<string>().Distinct())
            if (TenantId.TryParse(tenantId, out var id) && await tenants.FindCachedAsync(id, cancellationToken) is { } tenant)
                names[tenantId] = tenant.Name;
        return new HoldsModel(undecided, names);
    }
}
