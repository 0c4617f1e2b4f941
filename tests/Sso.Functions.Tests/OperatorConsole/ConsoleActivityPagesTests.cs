using System.Text.Json.Nodes;
using Sso.Functions.Audit;
using Sso.Functions.OperatorConsole;
using Sso.Functions.Storage.Queues;

namespace Sso.Functions.Tests.OperatorConsole;

/// <summary>The operations pages as pure HTML: every action a CSRF-carrying form, every value encoded, advice only for sign-in refusals.</summary>
public class ConsoleActivityPagesTests
{
    private const string Csrf = "csrf-token-123";

    [Fact]
    public void Each_dead_letter_has_a_replay_form_that_carries_the_anti_forgery_token_and_encodes_its_id()
    {
        var html = ConsoleActivityPages.DeadLetters(
        [
            new DeadLetter("dl/1?x", "webhooks", "<script>m</script>", "webhook.deliver", "max deliveries", 5, DateTimeOffset.UnixEpoch),
        ], Csrf);

        Assert.Contains("action=\"/console/dead-letters/webhooks/dl%2F1%3Fx/replay\"", html);
        Assert.Contains($"name=\"csrf\" value=\"{Csrf}\"", html);
        Assert.DoesNotContain("<script>m", html);
        Assert.Contains("&lt;script&gt;m", html);
    }

    [Fact]
    public void Each_hold_has_release_and_cancel_forms_and_shows_its_tenant_by_name()
    {
        var hold = new JsonObject
        {
            ["id"] = "hld_1", ["directoryId"] = "dir_1", ["tenantId"] = "ten_1", ["status"] = "held",
            ["triggeredAt"] = "2026-12-07T03:00:00Z", ["deprovisionedUsers"] = 25, ["directoryUsers"] = 60,
            ["users"] = new JsonArray(new JsonObject { ["id"] = "usr_1", ["userName"] = "<b>ann</b>" }),
        };
        var html = ConsoleActivityPages.Holds([hold], new Dictionary<string, string> { ["ten_1"] = "Acme & Co" }, Csrf);

        Assert.Contains("action=\"/console/holds/dir_1/hld_1/release\"", html);
        Assert.Contains("action=\"/console/holds/dir_1/hld_1/cancel\"", html);
        Assert.Equal(2, html.Split($"value=\"{Csrf}\"").Length - 1);
        Assert.Contains("Acme &amp; Co", html);
        Assert.Contains("&lt;b&gt;ann&lt;/b&gt;", html);
        Assert.Contains("<strong>25</strong> of 60", html);
        Assert.Contains("id=\"no-holds\"", ConsoleActivityPages.Holds([], new Dictionary<string, string>(), Csrf));
    }

    private static JsonObject Row(string type, string result, string? reason) => new()
    {
        ["id"] = "aud_1", ["type"] = type, ["occurredAt"] = "2026-12-07T03:00:00Z", ["result"] = result, ["reason"] = reason,
        ["action"] = "signin", ["actor"] = new JsonObject { ["kind"] = "idp", ["id"] = "con_1" },
    };

    [Fact]
    public void A_refused_sign_in_shows_its_reason_and_advice_and_a_refused_SCIM_request_only_its_reason()
    {
        var filter = new ConsoleActivityPages.ActivityFilter("ten_1", null, "failure", null, null);
        var html = ConsoleActivityPages.Activity(new ConsoleActivityPages.ActivityModel(filter, [("ten_1", "Acme")],
            new AuditPage([Row(AuditTypes.SignInAttempt, "failure", "user_not_provisioned"), Row(AuditTypes.ScimRequest, "failure", "invalidFilter")],
                "aud_next"), null));

        Assert.Contains("<code class=\"reason\">user_not_provisioned</code>", html);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(RefusalGuidance.For("user_not_provisioned")!), html);
        Assert.Contains("<code class=\"reason\">invalidFilter</code>", html);
        Assert.Equal(1, html.Split("class=\"guidance\"").Length - 1);
        // Paging keeps the filter.
        Assert.Contains("href=\"/console/activity?tenant=ten_1&amp;result=failure&amp;after=aud_next\"", html);
    }
}
