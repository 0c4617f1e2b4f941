using System.Net;
using Sso.Functions.Hosting;
using Sso.Testing;

namespace Sso.Functions.Tests.Hosting;

/// <summary>The setup portal and the operator console serve one copy-button script, under the pages' shared headers.</summary>
public sealed class BrowserAssetsTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    [Theory]
    [InlineData("/setup/assets/portal.js")]
    [InlineData("/console/assets/console.js")]
    public async Task Each_page_script_holds_the_shared_copy_button_script_once(string path)
    {
        var response = await fixture.App.CreateAnonymousClient().GetAsync(path);
        var script = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("'use strict';\n", script);
        Assert.Equal(1, script.Split(BrowserAssets.CopyButtonScript).Length - 1);
        Assert.Single(script.Split('\n'), line => line.Contains("button[data-copy]"));
        Assert.Equal("public, max-age=300", response.Headers.CacheControl?.ToString());
        Assert.Equal(BrowserPages.ContentSecurityPolicy, string.Join(";", response.Headers.GetValues("Content-Security-Policy")));
    }
}
