using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Protocols.Saml;

namespace Sso.Functions.Saml;

/// <summary>
/// The SP face of each SAML connection: its metadata and its Assertion Consumer Service, which
/// reads the IdP's form and hands it to <see cref="SamlSignInCompletion"/>.
/// </summary>
public static class SamlEndpoints
{
    /// <summary>A form with a base64 response of <see cref="SamlResponseReader.MaxDecodedBytes"/> plus RelayState.</summary>
    public const int MaxFormBytes = SamlResponseReader.MaxDecodedBytes * 4 / 3 + 8 * 1024;

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("SamlMetadata", "/saml/metadata/{connectionId}", ["GET"], MetadataAsync),
        new("SamlAcs", "/saml/acs/{connectionId}", ["POST"], AcsAsync),
    ];

    private static async Task<IResult> MetadataAsync(HttpContext context)
    {
        if (await FindConnectionAsync(context) is not { } connection)
            return OAuthResults.Page(404, "Unknown SAML connection", "There is no SAML connection with this id.");
        var options = context.RequestServices.GetRequiredService<SsoOptions>();
        // During a rollover every SP key is published for signing, current first, so an IdP trusts
        // AuthnRequests signed by either. Only the current key is published for encryption: an IdP
        // picks one encryption certificate, and it must pick the one that stays (samlify, for one,
        // fails outright on two); the ACS still decrypts with every key until it is retired.
        var certificates = await context.RequestServices.GetRequiredService<SamlServiceProviderKeys>()
            .GetCertificatesAsync(connection.Id, context.RequestAborted);
        var xml = SpMetadataWriter.Write(new SpMetadata
        {
            EntityId = SamlServiceProviderUrls.EntityId(options, connection.Id),
            AcsUrl = SamlServiceProviderUrls.AcsUrl(options, connection.Id),
            SigningCertificates = certificates,
            EncryptionCertificates = [certificates[0]],
            AuthnRequestsSigned = connection.ConfigBool("signAuthnRequests"),
            SingleLogoutUrl = SamlServiceProviderUrls.SloUrl(options, connection.Id),
        });
        return Results.Text(xml, "application/samlmetadata+xml", System.Text.Encoding.UTF8);
    }

    private static async Task<IResult> AcsAsync(HttpContext context)
    {
        if (await FindConnectionAsync(context) is not { } connection)
            return SignInCompletion.ToResult(context, SamlSignInCompletion.NoRedirectPage(null,
                "This sign-in was sent to a SAML connection that does not exist. Check the ACS URL configured at the IdP."));
        context.Items[RequestPipeline.TenantItem] = connection.TenantId.Value;

        if (!context.Request.HasFormContentType || context.Request.ContentLength > MaxFormBytes)
            return SignInCompletion.ToResult(context, SamlSignInCompletion.NoRedirectPage(connection.TenantId,
                "The IdP must POST the SAMLResponse as a form (HTTP-POST binding)."));
        if (await ReadFormAsync(context) is not { } post)
            return SignInCompletion.ToResult(context, SamlSignInCompletion.NoRedirectPage(connection.TenantId,
                "The SAMLResponse form is too large or malformed."));
        var completion = await context.RequestServices.GetRequiredService<SamlSignInCompletion>()
            .CompleteAsync(connection, post, context.RequestAborted);
        return SignInCompletion.ToResult(context, completion);
    }

    private static async Task<SamlPost?> ReadFormAsync(HttpContext context)
    {
        try
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            if (form["SAMLResponse"].Count > 1 || form["RelayState"].Count > 1) return null;
            var relayState = form["RelayState"].ToString();
            return new SamlPost(form["SAMLResponse"].ToString(), relayState.Length > 0 ? relayState : null);
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    private static async Task<Connection?> FindConnectionAsync(HttpContext context)
    {
        if (!ConnectionId.TryParse(context.RouteString("connectionId"), out var id)) return null;
        var connection = await context.RequestServices.GetRequiredService<ConnectionStore>().FindCachedByIdAsync(id, context.RequestAborted);
        return connection is { Type: ConnectionTypes.Saml } ? connection : null;
    }
}
