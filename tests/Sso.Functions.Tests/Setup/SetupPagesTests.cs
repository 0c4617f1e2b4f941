using System.Text.Json.Nodes;
using Sso.Functions.Setup;

namespace Sso.Functions.Tests.Setup;

/// <summary>The portal's pages as pure functions: model in, HTML out, no app needed.</summary>
public class SetupPagesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 1, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_status_page_shows_only_the_sections_of_the_link_and_escapes_what_the_audit_recorded()
    {
        var scim = new JsonObject
        {
            ["occurredAt"] = "2026-12-07T00:59:00Z", ["method"] = "POST", ["path"] = "/scim/v2/<script>",
            ["status"] = "400", ["reason"] = "invalidValue", ["durationMs"] = "12",
        };

        var html = SetupPages.Status(connections: null, directories: [], signIns: null, scimRequests: [scim], Now);

        Assert.DoesNotContain("Single sign-on", html);
        Assert.DoesNotContain("Recent sign-in attempts", html);
        Assert.Contains("<p>No directory is set up yet.</p>", html);
        Assert.Contains("POST /scim/v2/&lt;script&gt;", html);
        Assert.DoesNotContain("<script>", html);
        Assert.Contains("2026-12-07 00:59:00 UTC", html);
    }

    [Fact]
    public void The_open_link_page_shows_the_error_above_the_form()
    {
        var html = SetupPages.OpenLink("This browser has no open setup session <b>");

        Assert.Contains("no open setup session &lt;b&gt;", html);
        Assert.True(html.IndexOf("no open setup session &lt;b&gt;", StringComparison.Ordinal)
                    < html.IndexOf("<form method=\"post\" action=\"/setup/session\"", StringComparison.Ordinal));
    }
}
