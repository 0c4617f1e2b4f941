using Sso.Functions.Hosting;
using Sso.Functions.Saml;

namespace Sso.Functions.OAuth;

/// <summary>Every endpoint of the sign-in flow, for the function table.</summary>
public static class SignInEndpoints
{
    public static IReadOnlyList<FunctionEndpoint> All { get; } =
    [
        .. AuthorizeEndpoints.Endpoints,
        .. TokenEndpoints.Endpoints,
        .. DiscoveryEndpoints.Endpoints,
        .. SamlEndpoints.Endpoints,
        .. LogoutEndpoints.Endpoints,
        .. SamlLogoutEndpoints.Endpoints,
    ];
}
