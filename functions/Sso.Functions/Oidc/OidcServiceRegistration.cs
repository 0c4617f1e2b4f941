namespace Sso.Functions.Oidc;

public static class OidcServiceRegistration
{
    /// <summary>The RP face toward customers' OpenID Providers: the outbound client, the discovery/JWKS cache, the sign-in starter and connection setup.</summary>
    public static IServiceCollection AddOidc(this IServiceCollection services)
    {
        IdpHttpClient.Register(services);
        services.AddSingleton<OidcProviderCache>();
        services.AddSingleton<OAuth.ISignInStarter, OidcSignInStarter>();
        services.AddSingleton<OidcSignInVerifier>();
        services.AddSingleton<OidcSignInCompletion>();
        services.AddSingleton<Connections.IConnectionTypeSetup, OidcConnectionSetup>();
        return services;
    }
}
