using Sso.Functions.Storage.Queues;
using Sso.Functions.Storage.Secrets;
using Sso.Functions.Webhooks;
using Sso.Testing;

namespace Sso.Functions.Tests.Webhooks;

/// <summary>
/// <see cref="WebhookSetup"/> called from DI, as the management API calls it: typed inputs, a
/// problem value (the API's own words) for a refusal, the row and the secret store as the result.
/// </summary>
public sealed class WebhookSetupTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private SsoAppFactory App => fixture.App;

    private WebhookSetup Setup => App.Get<WebhookSetup>();

    [Fact]
    public async Task Creates_a_tenant_webhook_whose_secret_is_in_the_secret_store_before_its_row()
    {
        var tenant = await TestTenant.CreateAsync(App);

        var created = await Setup.CreateAsync(new CreateWebhookRequest
        {
            Url = "https://hooks.example.test/in", TenantId = tenant.TenantId, EventTypes = ["dsync.*"], Description = "directory",
        }, default);

        Assert.True(created.IsSuccess, created.ToString());
        var (webhook, secret) = created.Value;
        Assert.StartsWith("whsec_", secret);
        Assert.Equal(secret, await App.Get<ISecretStore>().GetAsync(webhook.Id.SecretName, default));
        var stored = await App.Get<WebhookStore>().FindAsync(webhook.Id, default);
        Assert.Equal((tenant.TenantId, "https://hooks.example.test/in", true, "dsync.*"),
            (stored!.TenantId, stored.Url, stored.Enabled, Assert.Single(stored.EventTypes)));
    }

    [Fact]
    public async Task Refuses_an_unknown_tenant_a_plain_http_url_and_a_bad_event_type_and_stores_nothing()
    {
        var before = (await App.Get<WebhookStore>().ListAsync(default)).Count;

        var unknownTenant = await Setup.CreateAsync(new CreateWebhookRequest { Url = "https://hooks.example.test/in", TenantId = "ten_missing" }, default);
        var plainHttp = await Setup.CreateAsync(new CreateWebhookRequest { Url = "http://hooks.example.test/in" }, default);
        var badType = await Setup.CreateAsync(new CreateWebhookRequest { Url = "https://hooks.example.test/in", EventTypes = ["dsync*"] }, default);

        Assert.Equal((400, "'tenantId' names no tenant ('ten_missing')."), (unknownTenant.Error.Status, unknownTenant.Error.Detail));
        Assert.Equal((400, "validation-failed"), (plainHttp.Error.Status, plainHttp.Error.Code));
        Assert.StartsWith("url: ", plainHttp.Error.Detail);
        Assert.Equal("'dsync*' is not an event type (e.g. 'dsync.user.deprovisioned' or 'dsync.*').", badType.Error.Detail);
        Assert.Equal(before, (await App.Get<WebhookStore>().ListAsync(default)).Count);
    }

    [Fact]
    public async Task Disabling_keeps_the_failure_count_and_enabling_starts_it_afresh_and_sends_what_was_parked()
    {
        var store = App.Get<WebhookStore>();
        var webhook = (await Setup.CreateAsync(new CreateWebhookRequest { Url = "https://hooks.example.test/in" }, default)).Value.Webhook;
        var failing = webhook with { ConsecutiveFailures = 3, FailingSince = webhook.CreatedAt };
        await store.ReplaceAsync((await store.FindAsync(webhook.Id, default))!, failing, default);

        var disabled = await Setup.UpdateAsync((await store.FindAsync(webhook.Id, default))!, new UpdateWebhookRequest { Enabled = false }, default);
        Assert.True(disabled.IsSuccess, disabled.ToString());
        Assert.Equal((false, 3, "disabled by an administrator"), (disabled.Value.Enabled, disabled.Value.ConsecutiveFailures, disabled.Value.DisabledReason));
        await store.HoldAsync(webhook.Id, new WebhookDeliveryMessage(webhook.Id.Value, "evt_parked", "dsync.user.created", null, "{}", 1),
            HeldDelivery.Parked, "the webhook is disabled", webhook.CreatedAt, default);

        var enabled = await Setup.UpdateAsync((await store.FindAsync(webhook.Id, default))!, new UpdateWebhookRequest { Enabled = true }, default);

        Assert.True(enabled.IsSuccess, enabled.ToString());
        var stored = await store.FindAsync(webhook.Id, default);
        Assert.Equal((true, 0, null, null), (stored!.Enabled, stored.ConsecutiveFailures, stored.DisabledReason, stored.FailingSince));
        Assert.Empty(await store.ListHeldAsync(webhook.Id, default));
    }

    [Fact]
    public async Task Refuses_a_long_description_on_update_and_a_webhook_deleted_meanwhile()
    {
        var store = App.Get<WebhookStore>();
        var webhook = (await Setup.CreateAsync(new CreateWebhookRequest { Url = "https://hooks.example.test/in" }, default)).Value.Webhook;
        var current = (await store.FindAsync(webhook.Id, default))!;

        var tooLong = await Setup.UpdateAsync(current, new UpdateWebhookRequest { Description = new string('d', 501) }, default);
        Assert.Equal((400, "'description' must be at most 500 characters."), (tooLong.Error.Status, tooLong.Error.Detail));
        Assert.Null((await store.FindAsync(webhook.Id, default))!.Description);

        Assert.True((await Setup.DeleteAsync(current, default)).IsSuccess);
        Assert.Null(await store.FindAsync(webhook.Id, default));
        Assert.Null(await App.Get<ISecretStore>().GetAsync(webhook.Id.SecretName, default));

        var updateGone = await Setup.UpdateAsync(current, new UpdateWebhookRequest { Description = "late" }, default);
        var deleteGone = await Setup.DeleteAsync(current, default);
        Assert.Equal((404, "not-found"), (updateGone.Error.Status, updateGone.Error.Code));
        Assert.Equal((404, "There is no webhook '" + webhook.Id + "'."), (deleteGone.Error.Status, deleteGone.Error.Detail));
    }

    [Fact]
    public async Task Queues_a_test_event_for_the_webhook_alone()
    {
        var webhook = (await Setup.CreateAsync(new CreateWebhookRequest { Url = "https://hooks.example.test/in" }, default)).Value.Webhook;

        var eventId = await Setup.SendTestAsync(webhook, default);

        var queue = await App.Get<StorageWorkQueue>().GetQueueAsync(WebhookDeliveryWorker.QueueName, default);
        var queued = (await queue.PeekMessagesAsync(32)).Value.Select(m => WorkEnvelope.Read(m.Body.ToString()))
            .Single(e => e is not null && e.Body.Contains(eventId, StringComparison.Ordinal))!;
        Assert.StartsWith("evt_", eventId);
        Assert.Contains(webhook.Id.Value, queued.Body);
        Assert.Contains("webhook.test", queued.Body);
    }

    [Fact]
    public async Task Redelivers_what_an_enabled_webhook_kept_and_refuses_while_it_is_disabled()
    {
        var store = App.Get<WebhookStore>();
        var webhook = (await Setup.CreateAsync(new CreateWebhookRequest { Url = "https://hooks.example.test/in" }, default)).Value.Webhook;
        await store.HoldAsync(webhook.Id, new WebhookDeliveryMessage(webhook.Id.Value, "evt_kept", "dsync.user.created", null, "{}", 1),
            HeldDelivery.DeadLettered, "attempts spent", webhook.CreatedAt, default);
        var disabled = (await Setup.UpdateAsync((await store.FindAsync(webhook.Id, default))!, new UpdateWebhookRequest { Enabled = false }, default)).Value;

        var refused = await Setup.RedeliverAsync(disabled, default);
        Assert.Equal((409, "conflict"), (refused.Error.Status, refused.Error.Code));
        Assert.Single(await store.ListHeldAsync(webhook.Id, default));

        // Enabling sends the parked deliveries only; the dead-lettered one waits for a redelivery.
        var enabled = (await Setup.UpdateAsync((await store.FindAsync(webhook.Id, default))!, new UpdateWebhookRequest { Enabled = true }, default)).Value;
        Assert.Single(await store.ListHeldAsync(webhook.Id, default));
        var redelivered = await Setup.RedeliverAsync(enabled, default);
        Assert.Equal(1, redelivered.Value);
        Assert.Empty(await store.ListHeldAsync(webhook.Id, default));
    }
}
