namespace Sso.Functions.Oidc;

public static class OidcServiceRegistration
{
    /// <summary>The RP face toward customers' OpenID Providers: the outbound client and the discovery/JWKS cache.</summary>
    public static IServiceCollection AddOidc(this IServiceCollection services)
    {
        IdpHttpClient.Register(services);
        services.AddSingleton<OidcProviderCache>();
        return services;
    }
}
