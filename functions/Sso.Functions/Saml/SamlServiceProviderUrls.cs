using Sso.Functions.Connections;
using Sso.Functions.Hosting;

namespace Sso.Functions.Saml;

/// <summary>
/// Each connection is its own SP: its entity ID is its SP metadata URL and it has its own ACS
/// URL, so one customer can run several IdPs side by side (DESIGN §3.2).
/// </summary>
public static class SamlServiceProviderUrls
{
    public static string MetadataUrl(SsoOptions options, ConnectionId id) => options.Url($"/saml/metadata/{id.Value}");

    public static string EntityId(SsoOptions options, ConnectionId id) => MetadataUrl(options, id);

    public static string AcsUrl(SsoOptions options, ConnectionId id) => options.Url($"/saml/acs/{id.Value}");

    public static string SloUrl(SsoOptions options, ConnectionId id) => options.Url($"/saml/slo/{id.Value}");
}
