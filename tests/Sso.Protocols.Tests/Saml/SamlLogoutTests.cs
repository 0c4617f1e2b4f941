using System.IO.Compression;
using System.Text;
using System.Xml;
using Sso.Protocols.Saml;

namespace Sso.Protocols.Tests.Saml;

/// <summary>
/// LogoutRequest and LogoutResponse over HTTP-Redirect and HTTP-POST. The IdP's messages are
/// made with the same writer, signed with the test IdP's key, then checked as the SLO endpoint
/// checks them: against the connection's certificate, Issuer, Destination and times.
/// </summary>
public class SamlLogoutTests
{
    private const string SloUrl = "https://sso.example.test/saml/slo/con_test";
    private const string RelayState = "con_test.rs8Hk2";

    private static SamlLogoutParameters Parameters(DateTimeOffset? now = null) => new()
    {
        IdpCertificates = [SamlTestIdp.PublicOnly(SamlTestIdp.SigningCertificate)],
        IdpEntityId = SamlTestIdp.EntityId,
        SloUrl = SloUrl,
        Now = now ?? SamlTestIdp.Now,
    };

    private static LogoutRequest IdpRequest(string? destination = SloUrl, string issuer = SamlTestIdp.EntityId) => new()
    {
        Id = "_lr_71c2",
        IssueInstant = SamlTestIdp.Now,
        Issuer = issuer,
        Destination = destination!,
        NameId = SamlTestIdp.Email,
        NameIdFormat = SamlUris.EmailNameIdFormat,
        SessionIndexes = ["_session_1"],
        NotOnOrAfter = SamlTestIdp.Now.AddMinutes(5),
    };

    private static LogoutResponse IdpResponse(string inResponseTo = "_ours_1", string status = SamlUris.StatusSuccess) => new()
    {
        Id = "_lresp_1",
        IssueInstant = SamlTestIdp.Now,
        Issuer = SamlTestIdp.EntityId,
        Destination = SloUrl,
        InResponseTo = inResponseTo,
        StatusCode = status,
    };

    private static string RawQuery(Uri url) => url.Query.TrimStart('?');

    private static string PostedValue(string html)
    {
        var start = html.IndexOf("value=\"", StringComparison.Ordinal) + "value=\"".Length;
        return html[start..html.IndexOf('"', start)];
    }

    [Fact]
    public void Accepts_a_signed_redirect_LogoutRequest_and_reads_NameID_and_SessionIndex()
    {
        var url = SamlLogoutWriter.WriteRedirectUrl(IdpRequest(), RelayState, SamlTestIdp.SigningCertificate);

        var request = SamlLogoutValidator.ValidateRedirectRequest(RawQuery(url), Parameters());

        Assert.True(request.IsSuccess, request.ToString());
        Assert.Equal("_lr_71c2", request.Value.Id);
        Assert.Equal(SamlTestIdp.Email, request.Value.NameId);
        Assert.Equal(SamlUris.EmailNameIdFormat, request.Value.NameIdFormat);
        Assert.Equal(["_session_1"], request.Value.SessionIndexes);
        Assert.Equal(RelayState, SamlLogoutValidator.RedirectRelayState(RawQuery(url), SamlRedirectBinding.RequestParameter));
    }

    [Fact]
    public void Signs_the_query_octets_in_the_order_of_bindings_3_4_4_1()
    {
        var raw = RawQuery(SamlLogoutWriter.WriteRedirectUrl(IdpRequest(), RelayState, SamlTestIdp.SigningCertificate));

        var signedPart = raw[..raw.IndexOf("&Signature=", StringComparison.Ordinal)];
        Assert.Matches("^SAMLRequest=[^&]+&RelayState=con_test.rs8Hk2&SigAlg=[^&]+$", signedPart);
        var message = SamlRedirectBinding.Read(raw, SamlRedirectBinding.RequestParameter);
        Assert.True(message.IsSuccess);
        Assert.Equal(signedPart, Encoding.UTF8.GetString(message.Value.SignedOctets));
        Assert.Equal(SamlAlgorithms.RsaSha256, message.Value.SignatureAlgorithm);
    }

    public static TheoryData<string, SamlFailureKind> TamperedRedirects => new()
    {
        { "unsigned", SamlFailureKind.SignatureMissing },
        { "relay-state-changed", SamlFailureKind.SignatureInvalid },
        { "signed-by-another-key", SamlFailureKind.SignatureInvalid },
        { "sha1", SamlFailureKind.WeakAlgorithm },
        { "message-swapped", SamlFailureKind.SignatureInvalid },
    };

    [Theory]
    [MemberData(nameof(TamperedRedirects))]
    public void Refuses_a_redirect_LogoutRequest_that_is_unsigned_or_altered(string tampering, SamlFailureKind expected)
    {
        var signed = RawQuery(SamlLogoutWriter.WriteRedirectUrl(IdpRequest(), RelayState, SamlTestIdp.SigningCertificate));
        var raw = tampering switch
        {
            "unsigned" => RawQuery(SamlRedirectBinding.WriteUrl(SloUrl, "SAMLRequest", SamlLogoutWriter.WriteXml(IdpRequest()), RelayState, null)),
            "relay-state-changed" => signed.Replace("RelayState=con_test.rs8Hk2", "RelayState=con_test.rs8Hk3"),
            "signed-by-another-key" => RawQuery(SamlLogoutWriter.WriteRedirectUrl(IdpRequest(), RelayState, SamlTestIdp.AttackerCertificate)),
            "sha1" => signed.Replace(Uri.EscapeDataString(SamlAlgorithms.RsaSha256), Uri.EscapeDataString(SamlAlgorithms.RsaSha1)),
            "message-swapped" => "SAMLRequest=" + Uri.EscapeDataString(SamlRedirectBinding.Encode(
                SamlLogoutWriter.WriteXml(IdpRequest() with { NameId = "someone-else@acme.test" }))) + signed[signed.IndexOf('&')..],
            _ => throw new ArgumentOutOfRangeException(nameof(tampering)),
        };

        var request = SamlLogoutValidator.ValidateRedirectRequest(raw, Parameters());

        Assert.False(request.IsSuccess);
        Assert.Equal(expected, request.Error.Kind);
    }

    [Fact]
    public void Refuses_a_LogoutRequest_for_another_destination_from_another_issuer_or_past_its_NotOnOrAfter()
    {
        var elsewhere = SamlLogoutValidator.ValidateRedirectRequest(
            RawQuery(SamlLogoutWriter.WriteRedirectUrl(IdpRequest(destination: "https://other.example.test/slo"), null, SamlTestIdp.SigningCertificate)),
            Parameters());
        Assert.Equal(SamlFailureKind.DestinationMismatch, elsewhere.Error.Kind);

        var stranger = SamlLogoutValidator.ValidateRedirectRequest(
            RawQuery(SamlLogoutWriter.WriteRedirectUrl(IdpRequest(issuer: "https://evil.example.test"), null, SamlTestIdp.SigningCertificate)),
            Parameters());
        Assert.Equal(SamlFailureKind.IssuerMismatch, stranger.Error.Kind);

        var raw = RawQuery(SamlLogoutWriter.WriteRedirectUrl(IdpRequest(), null, SamlTestIdp.SigningCertificate));
        Assert.True(SamlLogoutValidator.ValidateRedirectRequest(raw, Parameters(SamlTestIdp.Now.AddMinutes(7))).IsSuccess);
        var late = SamlLogoutValidator.ValidateRedirectRequest(raw, Parameters(SamlTestIdp.Now.AddMinutes(9)));
        Assert.Equal(SamlFailureKind.Expired, late.Error.Kind);
    }

    [Fact]
    public void Refuses_a_LogoutRequest_without_NotOnOrAfter_once_it_is_older_than_the_maximum_age()
    {
        var raw = RawQuery(SamlLogoutWriter.WriteRedirectUrl(IdpRequest() with { NotOnOrAfter = null }, null, SamlTestIdp.SigningCertificate));

        var fresh = SamlLogoutValidator.ValidateRedirectRequest(raw, Parameters(SamlTestIdp.Now.AddMinutes(12)));
        Assert.True(fresh.IsSuccess, fresh.ToString());
        Assert.Equal(SamlTestIdp.Now.AddMinutes(13), fresh.Value.ReplayCacheUntil);
        var stale = SamlLogoutValidator.ValidateRedirectRequest(raw, Parameters(SamlTestIdp.Now.AddMinutes(13)));
        Assert.Equal(SamlFailureKind.Expired, stale.Error.Kind);
    }

    [Fact]
    public void Accepts_a_POST_LogoutRequest_with_an_enveloped_signature()
    {
        var html = SamlLogoutWriter.WritePostForm(IdpRequest(), RelayState, SamlTestIdp.SigningCertificate);

        var request = SamlLogoutValidator.ValidatePostRequest(PostedValue(html), Parameters());

        Assert.True(request.IsSuccess, request.ToString());
        Assert.Equal(SamlTestIdp.Email, request.Value.NameId);
        Assert.Contains($"action=\"{SloUrl}\"", html);
        Assert.Contains($"value=\"{RelayState}\"", html);
    }

    [Fact]
    public void Refuses_a_POST_LogoutRequest_that_is_unsigned_altered_or_wrapped()
    {
        var unsigned = Convert.ToBase64String(Encoding.UTF8.GetBytes(SamlLogoutWriter.WriteXml(IdpRequest())));
        Assert.Equal(SamlFailureKind.SignatureMissing, SamlLogoutValidator.ValidatePostRequest(unsigned, Parameters()).Error.Kind);

        var signed = Encoding.UTF8.GetString(Convert.FromBase64String(
            PostedValue(SamlLogoutWriter.WritePostForm(IdpRequest(), null, SamlTestIdp.SigningCertificate))));
        var altered = signed.Replace(SamlTestIdp.Email, "mallory@acme.test");
        Assert.Equal(SamlFailureKind.SignatureInvalid,
            SamlLogoutValidator.ValidatePostRequest(Convert.ToBase64String(Encoding.UTF8.GetBytes(altered)), Parameters()).Error.Kind);

        // The genuine signed request moved under Extensions of a forged one with the same ID.
        var genuine = SamlTestIdp.Load(signed);
        var forged = SamlTestIdp.Load(SamlLogoutWriter.WriteXml(IdpRequest() with { NameId = "mallory@acme.test" }));
        var extensions = forged.CreateElement("samlp", "Extensions", "urn:oasis:names:tc:SAML:2.0:protocol");
        extensions.AppendChild(forged.ImportNode(genuine.DocumentElement!, deep: true));
        forged.DocumentElement!.InsertAfter(extensions, forged.DocumentElement.FirstChild);
        var wrapped = SamlLogoutValidator.ValidatePostRequest(Convert.ToBase64String(Encoding.UTF8.GetBytes(forged.OuterXml)), Parameters());
        Assert.False(wrapped.IsSuccess);
        Assert.Contains(wrapped.Error.Kind, new[] { SamlFailureKind.DuplicateId, SamlFailureKind.UnexpectedStructure });
    }

    [Fact]
    public void Accepts_the_IdP_LogoutResponse_to_our_request_and_reports_its_status()
    {
        var ok = SamlLogoutValidator.ValidateRedirectResponse(
            RawQuery(SamlLogoutWriter.WriteRedirectUrl(IdpResponse(), RelayState, SamlTestIdp.SigningCertificate)), "_ours_1", Parameters());
        Assert.True(ok.IsSuccess, ok.ToString());
        Assert.True(ok.Value.IsSuccess);

        var partial = SamlLogoutValidator.ValidatePostResponse(
            PostedValue(SamlLogoutWriter.WritePostForm(IdpResponse(status: "urn:oasis:names:tc:SAML:2.0:status:Responder"), null,
                SamlTestIdp.SigningCertificate)), "_ours_1", Parameters());
        Assert.True(partial.IsSuccess, partial.ToString());
        Assert.False(partial.Value.IsSuccess);
    }

    [Fact]
    public void Refuses_a_LogoutResponse_to_another_request()
    {
        var response = SamlLogoutValidator.ValidateRedirectResponse(
            RawQuery(SamlLogoutWriter.WriteRedirectUrl(IdpResponse("_someone_elses"), RelayState, SamlTestIdp.SigningCertificate)), "_ours_1",
            Parameters());

        Assert.False(response.IsSuccess);
        Assert.Equal(SamlFailureKind.InResponseToMismatch, response.Error.Kind);
    }

    [Fact]
    public void Writes_our_LogoutRequest_with_NameID_then_SessionIndex_in_schema_order()
    {
        var xml = SamlTestIdp.Load(SamlLogoutWriter.WriteXml(IdpRequest()));
        var children = xml.DocumentElement!.ChildNodes.OfType<XmlElement>().Select(e => e.LocalName);

        Assert.Equal(["Issuer", "NameID", "SessionIndex"], children);
        Assert.Equal("2026-03-10T09:35:00Z", xml.DocumentElement.GetAttribute("NotOnOrAfter"));
        Assert.Equal(SloUrl, xml.DocumentElement.GetAttribute("Destination"));
    }

    [Fact]
    public void Refuses_a_redirect_message_that_inflates_beyond_the_limit()
    {
        using var output = new MemoryStream();
        using (var deflater = new DeflateStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
            deflater.Write(new byte[SamlRedirectBinding.MaxInflatedBytes + 1]);
        var raw = "SAMLRequest=" + Uri.EscapeDataString(Convert.ToBase64String(output.ToArray()));

        var read = SamlRedirectBinding.Read(raw, SamlRedirectBinding.RequestParameter);

        Assert.False(read.IsSuccess);
        Assert.Equal(SamlFailureKind.TooLarge, read.Error.Kind);
    }
}
