namespace Sso.Functions.Oidc;

public static class OidcServiceRegistration
{
    /// <summary>The RP face toward customers' OpenID Providers: the outbound client, the discovery/JWKS cache and the sign-in starter.</summary>
    public static IServiceCollection AddOidc(this IServiceCollection services)
    {
        IdpHttpClient.Register(services);
        services.AddSingleton<OidcProviderCache>();
        services.AddSingleton<OAuth.ISignInStarter, OidcSignInStarter>();
        services.AddSingleton<OidcSignInVerifier>();
        return services;
    }
}
