using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Sso.Functions.OAuth;
using Sso.Functions.Tests.Saml;
using Sso.Testing;

namespace Sso.Functions.Tests.Connections;

/// <summary>
/// Issue 18.6 and 18.7: which IdP vouches for which addresses, the connection lifecycle events,
/// setup-link connections that an admin confirms, and trust material that changes on refresh.
/// </summary>
public class ConnectionTrustTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private SsoAppFactory App => fixture.App;

    private static string NewDomain(string prefix) => prefix + Guid.NewGuid().ToString("N")[..10] + ".test";

    private static async Task AddTenantDomainAsync(SignInFlow flow, string domain)
    {
        var patched = await flow.Admin.PatchAsync($"/api/v1/tenants/{flow.TenantId}",
            JsonContent.Create(new JsonObject { ["domains"] = new JsonArray(flow.Domain, domain) }));
        Assert.True(patched.StatusCode == HttpStatusCode.OK, await patched.Content.ReadAsStringAsync());
    }

    private static async Task<JsonObject> CreateConnectionAsync(SignInFlow flow, SamlTestIdp idp, JsonObject? extras = null)
    {
        var body = new JsonObject
        {
            ["type"] = "saml",
            ["idpEntityId"] = SamlTestIdp.EntityId,
            ["idpSsoUrl"] = SamlTestIdp.SsoUrl,
            ["idpCertificates"] = new JsonArray(idp.CertificatePem),
        };
        foreach (var (name, value) in extras ?? new JsonObject()) body[name] = value?.DeepClone();
        var created = await flow.Admin.PostAsJsonAsync($"/api/v1/tenants/{flow.TenantId}/connections", body);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return (await created.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static async Task<HttpResponseMessage> PatchConnectionAsync(SignInFlow flow, string connectionId, JsonObject patch) =>
        await flow.Admin.PatchAsync($"/api/v1/tenants/{flow.TenantId}/connections/{connectionId}", JsonContent.Create(patch));

    /// <summary>authorize with <c>connection=</c>, then the IdP's signed answer for <paramref name="email"/> at that connection's ACS.</summary>
    private static async Task<Dictionary<string, string>> SignInAsync(SignInFlow flow, SamlTestIdp idp, JsonObject connection, string email)
    {
        var (requestId, relayState) = await flow.StartAsync("state-" + Guid.NewGuid().ToString("N")[..6], null,
            extra: "connection=" + connection["id"]!.GetValue<string>());
        var acsUrl = connection["acsUrl"]!.GetValue<string>();
        var assertion = flow.Assertion(requestId) with
        {
            AcsUrl = acsUrl,
            SpEntityId = connection["spEntityId"]!.GetValue<string>(),
            Email = email,
        };
        return SignInFlow.CallbackParameters(await flow.PostAcsAsync(idp.SignedResponse(assertion), relayState, acsUrl));
    }

    private static JsonObject FirstConnection(SignInFlow flow) => new()
    {
        ["id"] = flow.ConnectionId,
        ["acsUrl"] = flow.AcsUrl,
        ["spEntityId"] = flow.SpEntityId,
    };

    private async Task<JsonArray> EventsAsync(string tenantId)
    {
        await App.FlushAsync();
        App.Clock.Advance(Sso.Functions.Outbox.EventFeedStore.SettleTime + TimeSpan.FromSeconds(1));
        return (await App.CreateAdminClient().GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={tenantId}&limit=1000"))!["data"]!.AsArray();
    }

    [Fact]
    public async Task The_only_connection_asserts_every_domain_of_the_tenant_including_one_added_later()
    {
        var flow = await SignInFlow.CreateAsync(App, new JsonObject { ["jitProvisioning"] = true });
        var later = NewDomain("later");
        await AddTenantDomainAsync(flow, later);

        var signedIn = await SignInAsync(flow, flow.Idp, FirstConnection(flow), "carol@" + later);

        Assert.True(signedIn.ContainsKey("code"), string.Join(", ", signedIn));
        var view = (await flow.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{flow.TenantId}/connections/{flow.ConnectionId}"))!;
        Assert.Null(view["domains"]);
        Assert.DoesNotContain("domains_not_set", view["warnings"]!.AsArray().Select(w => w!.GetValue<string>()));
        Assert.True(view["enabled"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_second_connection_asserts_only_its_own_domains_and_the_first_then_needs_a_list()
    {
        var flow = await SignInFlow.CreateAsync(App, new JsonObject { ["jitProvisioning"] = true });
        var subsidiary = NewDomain("sub");
        await AddTenantDomainAsync(flow, subsidiary);
        var otherIdp = new SamlTestIdp();

        var notTheTenants = await flow.Admin.PostAsJsonAsync($"/api/v1/tenants/{flow.TenantId}/connections", new JsonObject
        {
            ["type"] = "saml", ["idpEntityId"] = SamlTestIdp.EntityId, ["idpSsoUrl"] = SamlTestIdp.SsoUrl,
            ["idpCertificates"] = new JsonArray(otherIdp.CertificatePem), ["domains"] = new JsonArray("elsewhere.test"),
        });
        Assert.Equal(HttpStatusCode.BadRequest, notTheTenants.StatusCode);
        Assert.Single(await App.Get<Sso.Functions.Connections.ConnectionStore>().ListAsync(new Sso.Functions.Storage.TenantId(flow.TenantId), default));

        var second = await CreateConnectionAsync(flow, otherIdp, new JsonObject { ["domains"] = new JsonArray(subsidiary.ToUpperInvariant()) });
        Assert.Equal(subsidiary, second["domains"]![0]!.GetValue<string>());

        // The second IdP, named by connection=, vouching for an address of the tenant's other domain.
        var refused = await SignInAsync(flow, otherIdp, second, flow.Email);
        Assert.Equal("access_denied", refused["error"]);
        Assert.Equal(SignInRefusals.EmailDomainNotAssertedByConnection, refused["error_description"]);
        Assert.False(refused.ContainsKey("code"));

        var own = await SignInAsync(flow, otherIdp, second, "dave@" + subsidiary);
        Assert.True(own.ContainsKey("code"), string.Join(", ", own));

        // The first connection has no list while another exists: it asserts nothing, and says so.
        var first = (await flow.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{flow.TenantId}/connections/{flow.ConnectionId}"))!;
        Assert.Contains("domains_not_set", first["warnings"]!.AsArray().Select(w => w!.GetValue<string>()));
        var unlisted = await SignInAsync(flow, flow.Idp, FirstConnection(flow), flow.Email);
        Assert.Equal(SignInRefusals.ConnectionDomainsNotSet, unlisted["error_description"]);

        var listed = await PatchConnectionAsync(flow, flow.ConnectionId, new JsonObject { ["domains"] = new JsonArray(flow.Domain) });
        Assert.True(listed.StatusCode == HttpStatusCode.OK, await listed.Content.ReadAsStringAsync());
        Assert.True((await SignInAsync(flow, flow.Idp, FirstConnection(flow), flow.Email)).ContainsKey("code"));
        Assert.Equal(SignInRefusals.EmailDomainNotAssertedByConnection,
            (await SignInAsync(flow, flow.Idp, FirstConnection(flow), "erin@" + subsidiary))["error_description"]);

        // login_hint routes to the connection that lists the email's domain.
        var routed = await flow.Browser.GetAsync(flow.AuthorizeUrl("s", null, loginHint: "dave@" + subsidiary));
        Assert.Equal(HttpStatusCode.Redirect, routed.StatusCode);
        var (_, _, authnRequest) = SamlTestIdp.ReadRedirect(routed.Headers.Location!);
        Assert.Equal(second["spEntityId"]!.GetValue<string>(),
            authnRequest.GetElementsByTagName("Issuer", "urn:oasis:names:tc:SAML:2.0:assertion")[0]!.InnerText);
        var discovered = (await flow.Admin.GetFromJsonAsync<JsonObject>("/api/v1/sso/discover?email=" + Uri.EscapeDataString("dave@" + subsidiary)))!;
        Assert.Equal(second["id"]!.GetValue<string>(), discovered["connectionId"]!.GetValue<string>());

        await App.FlushAsync();
        var audit = (await flow.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{flow.TenantId}/audit?type=signin.attempt&limit=100"))!;
        Assert.Contains(audit["data"]!.AsArray(), row => row!["reason"]?.GetValue<string>() == SignInRefusals.EmailDomainNotAssertedByConnection);
    }

    [Fact]
    public async Task Sub_stays_the_same_when_the_tenant_moves_its_users_to_another_IdP()
    {
        var flow = await SignInFlow.CreateAsync(App, new JsonObject { ["jitProvisioning"] = true });
        var newIdp = new SamlTestIdp();
        // A migration: the old and the new IdP side by side, both vouching for the tenant's domain.
        var moved = await CreateConnectionAsync(flow, newIdp, new JsonObject { ["domains"] = new JsonArray(flow.Domain) });
        Assert.Equal(HttpStatusCode.OK,
            (await PatchConnectionAsync(flow, flow.ConnectionId, new JsonObject { ["domains"] = new JsonArray(flow.Domain) })).StatusCode);

        async Task<JsonObject> IdTokenClaimsAsync(SamlTestIdp idp, JsonObject connection)
        {
            var code = (await SignInAsync(flow, idp, connection, flow.Email))["code"];
            var redeemed = await flow.RedeemAsync(code, null);
            Assert.True(redeemed.StatusCode == HttpStatusCode.OK, await redeemed.Content.ReadAsStringAsync());
            var idToken = (await redeemed.Content.ReadFromJsonAsync<JsonObject>())!["id_token"]!.GetValue<string>();
            return JsonNode.Parse(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(idToken.Split('.')[1]))!.AsObject();
        }

        var before = await IdTokenClaimsAsync(flow.Idp, FirstConnection(flow));
        var after = await IdTokenClaimsAsync(newIdp, moved);

        Assert.Equal(before["sub"]!.GetValue<string>(), after["sub"]!.GetValue<string>());
        Assert.NotEqual(before["connection"]!.GetValue<string>(), after["connection"]!.GetValue<string>());
    }

    [Fact]
    public async Task Connection_changes_appear_in_the_event_feed()
    {
        var flow = await SignInFlow.CreateAsync(App);
        var second = await CreateConnectionAsync(flow, new SamlTestIdp(), new JsonObject { ["name"] = "Okta" });
        var id = second["id"]!.GetValue<string>();
        var patched = await PatchConnectionAsync(flow, id, new JsonObject { ["domains"] = new JsonArray(flow.Domain) });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await flow.Admin.DeleteAsync($"/api/v1/tenants/{flow.TenantId}/connections/{id}")).StatusCode);

        var events = (await EventsAsync(flow.TenantId)).Select(e => e!.AsObject()).Where(e => e["connectionId"]?.GetValue<string>() == id).ToList();

        Assert.Equal(["connection.created", "connection.updated", "connection.deleted"], events.Select(e => e["type"]!.GetValue<string>()));
        Assert.All(events, e => Assert.Equal(flow.TenantId, e["tenantId"]!.GetValue<string>()));
        Assert.Equal("Okta", events[0]["data"]!["name"]!.GetValue<string>());
        Assert.Equal("saml", events[0]["data"]!["type"]!.GetValue<string>());
        Assert.Equal(["domains"], events[1]["data"]!["changedFields"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal(flow.Domain, events[1]["data"]!["domains"]![0]!.GetValue<string>());
        Assert.DoesNotContain(events, e => e.ToJsonString().Contains("BEGIN CERTIFICATE"));
        // The first connection's creation is in the feed too.
        Assert.Contains(await EventsAsync(flow.TenantId), e => e!["type"]!.GetValue<string>() == "connection.created"
                                                              && e["connectionId"]!.GetValue<string>() == flow.ConnectionId);
    }

    [Fact]
    public async Task A_connection_a_setup_link_added_does_not_shut_out_the_admins_connection_until_an_admin_confirms_it()
    {
        var flow = await SignInFlow.CreateAsync(App, new JsonObject { ["jitProvisioning"] = true });
        var leakedIdp = new SamlTestIdp();
        var (_, added) = await CreateThroughSetupLinkAsync(flow, leakedIdp);
        Assert.True(added["awaitsConfirmation"]!.GetValue<bool>());

        // The admin's connection, without a list, still asserts every domain; the link's asserts nothing.
        Assert.True((await SignInAsync(flow, flow.Idp, FirstConnection(flow), flow.Email)).ContainsKey("code"));
        var first = (await flow.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{flow.TenantId}/connections/{flow.ConnectionId}"))!;
        Assert.DoesNotContain("domains_not_set", first["warnings"]!.AsArray().Select(w => w!.GetValue<string>()));
        Assert.Equal(SignInRefusals.ConnectionDomainsNotSet, (await SignInAsync(flow, leakedIdp, added, flow.Email))["error_description"]);

        // Once an admin vouches for the second connection, neither has a list and neither asserts anything.
        var confirm = await flow.Admin.PostAsync($"/api/v1/tenants/{flow.TenantId}/connections/{added["id"]}/confirm", null);
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        Assert.Equal(SignInRefusals.ConnectionDomainsNotSet,
            (await SignInAsync(flow, flow.Idp, FirstConnection(flow), flow.Email))["error_description"]);
        Assert.Equal(SignInRefusals.ConnectionDomainsNotSet, (await SignInAsync(flow, leakedIdp, added, flow.Email))["error_description"]);
    }

    [Fact]
    public async Task Revoking_a_setup_link_disables_its_unconfirmed_connection_and_leaves_a_confirmed_one_working()
    {
        var flow = await SignInFlow.CreateAsync(App, new JsonObject { ["jitProvisioning"] = true });
        var subsidiary = NewDomain("sub");
        await AddTenantDomainAsync(flow, subsidiary);
        Assert.Equal(HttpStatusCode.OK,
            (await PatchConnectionAsync(flow, flow.ConnectionId, new JsonObject { ["domains"] = new JsonArray(flow.Domain) })).StatusCode);

        var confirmedIdp = new SamlTestIdp();
        var (confirmedLink, confirmed) = await CreateThroughSetupLinkAsync(flow, confirmedIdp);
        var pendingIdp = new SamlTestIdp();
        var (pendingLink, unconfirmed) = await CreateThroughSetupLinkAsync(flow, pendingIdp);
        Assert.Equal(confirmedLink, confirmed["setupLinkId"]!.GetValue<string>());
        Assert.True(unconfirmed["awaitsConfirmation"]!.GetValue<bool>());
        foreach (var connection in new[] { confirmed, unconfirmed })
            Assert.Equal(HttpStatusCode.OK, (await PatchConnectionAsync(flow, connection["id"]!.GetValue<string>(),
                new JsonObject { ["domains"] = new JsonArray(subsidiary) })).StatusCode);
        var confirm = await flow.Admin.PostAsync($"/api/v1/tenants/{flow.TenantId}/connections/{confirmed["id"]}/confirm", null);
        Assert.True(confirm.StatusCode == HttpStatusCode.OK, await confirm.Content.ReadAsStringAsync());
        Assert.False((await confirm.Content.ReadFromJsonAsync<JsonObject>())!["awaitsConfirmation"]!.GetValue<bool>());
        // Before the revocation the unconfirmed connection signs in like any other.
        Assert.True((await SignInAsync(flow, pendingIdp, unconfirmed, "frank@" + subsidiary)).ContainsKey("code"));

        foreach (var link in new[] { confirmedLink, pendingLink })
            Assert.Equal(HttpStatusCode.NoContent, (await flow.Admin.DeleteAsync($"/api/v1/tenants/{flow.TenantId}/setup-links/{link}")).StatusCode);

        var refused = await SignInAsync(flow, pendingIdp, unconfirmed, "frank@" + subsidiary);
        Assert.Equal(SignInRefusals.ConnectionDisabled, refused["error_description"]);
        Assert.True((await SignInAsync(flow, confirmedIdp, confirmed, "frank@" + subsidiary)).ContainsKey("code"));
        Assert.True((await SignInAsync(flow, flow.Idp, FirstConnection(flow), flow.Email)).ContainsKey("code"));

        var disabled = (await flow.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{flow.TenantId}/connections/{unconfirmed["id"]}"))!;
        Assert.False(disabled["enabled"]!.GetValue<bool>());
        Assert.Equal("setup_link_revoked", disabled["disabledReason"]!.GetValue<string>());
        var update = (await EventsAsync(flow.TenantId)).Last(e => e!["type"]!.GetValue<string>() == "connection.updated"
                                                                   && e["connectionId"]!.GetValue<string>() == unconfirmed["id"]!.GetValue<string>())!;
        Assert.Contains("enabled", update["data"]!["changedFields"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.False(update["data"]!["enabled"]!.GetValue<bool>());

        // An admin who confirms it afterwards enables it again.
        Assert.Equal(HttpStatusCode.OK,
            (await flow.Admin.PostAsync($"/api/v1/tenants/{flow.TenantId}/connections/{unconfirmed["id"]}/confirm", null)).StatusCode);
        Assert.True((await SignInAsync(flow, pendingIdp, unconfirmed, "frank@" + subsidiary)).ContainsKey("code"));
    }

    /// <summary>A setup link, and a SAML connection saved through the portal with it (the IdP's metadata pasted).</summary>
    private async Task<(string LinkId, JsonObject Connection)> CreateThroughSetupLinkAsync(SignInFlow flow, SamlTestIdp idp)
    {
        var created = await flow.Admin.PostAsJsonAsync($"/api/v1/tenants/{flow.TenantId}/setup-links",
            new JsonObject { ["features"] = new JsonArray("sso") });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var link = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var url = new Uri(link["url"]!.GetValue<string>());
        var path = url.AbsolutePath;
        var browser = App.CreateAnonymousClient();
        var opened = await Setup.SetupPortalTenant.OpenSessionAsync(browser, url.Fragment.TrimStart('#'));
        Assert.Equal(HttpStatusCode.SeeOther, opened.StatusCode);
        var field = Setup.SetupPortalTenant.CsrfField(await browser.GetStringAsync(opened.Headers.Location!.OriginalString));
        Assert.Equal(HttpStatusCode.SeeOther, (await browser.PostAsync(path + "/idp",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = field, ["idp"] = "okta" }))).StatusCode);
        var saved = await browser.PostAsync(path + "/sso",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = field, ["metadataXml"] = idp.MetadataXml() }));
        Assert.True(saved.StatusCode == HttpStatusCode.SeeOther, await saved.Content.ReadAsStringAsync());
        // The tenant has another connection: the portal says this one signs nobody in until it has its domains.
        Assert.Contains("signs nobody in", await browser.GetStringAsync(path + "/sso"));
        var linkId = link["id"]!.GetValue<string>();
        var list = (await flow.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{flow.TenantId}/connections"))!["data"]!.AsArray();
        return (linkId, list.Single(c => c!["setupLinkId"]?.GetValue<string>() == linkId)!.AsObject());
    }

    [Fact]
    public async Task A_metadata_refresh_that_rolls_the_certificate_emits_trust_changed_and_an_audit_row_and_one_that_changes_nothing_emits_nothing()
    {
        var admin = App.CreateAdminClient();
        var tenant = await admin.PostAsJsonAsync("/api/v1/tenants", new { name = "Acme", domains = new[] { NewDomain("md") } });
        var tenantId = (await tenant.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        using var server = new RecordingHttpReceiver();
        var idp = new SamlTestIdp();
        server.Responder = _ => new ScriptedResponse(200, null, idp.MetadataXml());
        var created = await admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/connections",
            new JsonObject { ["type"] = "saml", ["idpMetadataUrl"] = server.BaseUrl + "md" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();

        App.Clock.Advance(TimeSpan.FromHours(1));
        await SignInMaintenance.RefreshMetadataAsync(App.Services, default);
        Assert.DoesNotContain(await EventsAsync(tenantId), e => e!["type"]!.GetValue<string>() is "connection.trust_changed" or "connection.updated");

        var rolled = new SamlTestIdp();
        server.Responder = _ => new ScriptedResponse(200, null, rolled.MetadataXml());
        App.Clock.Advance(TimeSpan.FromHours(1));
        await SignInMaintenance.RefreshMetadataAsync(App.Services, default);

        var changed = Assert.Single(await EventsAsync(tenantId), e => e!["type"]!.GetValue<string>() == "connection.trust_changed")!;
        Assert.Equal(id, changed["connectionId"]!.GetValue<string>());
        var data = changed["data"]!;
        Assert.Equal(id, data["connectionId"]!.GetValue<string>());
        Assert.Equal(tenantId, data["tenantId"]!.GetValue<string>());
        Assert.Equal(["idpCertificates"], data["changedFields"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal(Convert.ToHexString(SHA256.HashData(idp.Certificate.RawData)), data["oldCertificateThumbprints"]![0]!.GetValue<string>());
        Assert.Equal(Convert.ToHexString(SHA256.HashData(rolled.Certificate.RawData)), data["newCertificateThumbprints"]![0]!.GetValue<string>());
        Assert.DoesNotContain(Convert.ToBase64String(rolled.Certificate.RawData), changed.ToJsonString());

        var audit = (await admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenantId}/audit?type=management.change&limit=100"))!["data"]!.AsArray();
        var row = Assert.Single(audit, r => r!["action"]!.GetValue<string>() == "connection.trust_change")!;
        Assert.Equal("system", row["actor"]!["kind"]!.GetValue<string>());
        Assert.Equal(id, row["target"]!["id"]!.GetValue<string>());
        Assert.Equal(["idpCertificates"], row["changedFields"]!.AsArray().Select(f => f!.GetValue<string>()));
    }
}
