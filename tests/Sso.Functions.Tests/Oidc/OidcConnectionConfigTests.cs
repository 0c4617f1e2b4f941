using Sso.Functions.Oidc;

namespace Sso.Functions.Tests.Oidc;

public class OidcConnectionConfigTests
{
    [Theory]
    [InlineData("https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0", "9188040d-6c67-4c5b-b112-36a304b66dad")]
    [InlineData("https://login.microsoftonline.us/9188040D-6C67-4C5B-B112-36A304B66DAD/v2.0/", "9188040d-6c67-4c5b-b112-36a304b66dad")]
    [InlineData("https://sts.windows.net/9188040d-6c67-4c5b-b112-36a304b66dad/", "9188040d-6c67-4c5b-b112-36a304b66dad")]
    [InlineData("https://login.microsoftonline.com/{tenantid}/v2.0", null)]
    [InlineData("https://login.microsoftonline.com/organizations/v2.0", null)]
    [InlineData("https://accounts.google.com", null)]
    [InlineData("https://acme.okta.com/oauth2/default", null)]
    [InlineData("https://example.com/9188040d-6c67-4c5b-b112-36a304b66dad", null)]
    public void Reads_the_Entra_tenant_a_single_tenant_issuer_names(string issuer, string? tid) =>
        Assert.Equal(tid, OidcConnectionConfig.EntraTenantOf(issuer));

    [Fact]
    public void Listed_entraTenantIds_win_over_the_issuer()
    {
        var config = new OidcConnectionConfig("https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0", "c", [],
            TimeSpan.Zero, ["00000000-0000-0000-0000-000000000001"]);
        Assert.Equal(["00000000-0000-0000-0000-000000000001"], config.ExpectedEntraTenantIds);
        Assert.Equal(["9188040d-6c67-4c5b-b112-36a304b66dad"], (config with { EntraTenantIds = [] }).ExpectedEntraTenantIds);
    }

    [Fact]
    public void Checks_hd_against_the_hosted_domain_then_Google_tenant_domains_then_not_at_all()
    {
        var google = new OidcConnectionConfig(OidcConnectionConfig.GoogleIssuer, "c", [], TimeSpan.Zero, []);
        Assert.Equal(["acme.test"], google.RequiredHostedDomains(["acme.test"]));
        Assert.Equal(["ws.acme.test"], (google with { GoogleHostedDomain = "ws.acme.test" }).RequiredHostedDomains(["acme.test"]));
        var okta = google with { Issuer = "https://acme.okta.com" };
        Assert.Null(okta.RequiredHostedDomains(["acme.test"]));
        Assert.Equal(["acme.test"], (okta with { GoogleHostedDomain = "acme.test" }).RequiredHostedDomains([]));
    }
}
