using Sso.Functions.Connections;
using Sso.Functions.Hosting;

namespace Sso.Functions.OAuth;

public static class SignInServiceRegistration
{
    /// <summary>Connections and the OAuth provider face; the SAML and OIDC faces register their own (AddSaml, AddOidc).</summary>
    public static IServiceCollection AddSignIn(this IServiceCollection services)
    {
        services.AddSingleton<ConnectionStore>();
        OutboundConnectGuard.Register(services);
        services.AddSingleton(provider => new IdpMetadataFetcher(provider.GetRequiredService<IHttpClientFactory>(),
            provider.GetRequiredService<SsoOptions>(), provider.GetRequiredService<OutboundConnectGuard>()));
        services.AddHttpClient(IdpMetadataFetcher.HttpClientName, client => client.Timeout = IdpMetadataFetcher.Timeout)
            .ConfigurePrimaryHttpMessageHandler(provider =>
                provider.GetRequiredService<OutboundConnectGuard>().CreateHandler(IdpMetadataFetcher.Timeout));
        services.AddSingleton<PendingSignInStore>();
        services.AddSingleton<AuthorizationCodeStore>();
        services.AddSingleton<ConnectionSignInStore>();
        services.AddSingleton<ISignInRowSweep>(provider => provider.GetRequiredService<ConnectionSignInStore>());
        services.AddSingleton<AccessTokenStore>();
        services.AddSingleton<SignInSessionStore>();
        services.AddSingleton<SignInEvents>();
        services.AddSingleton<SignInDirectory>();
        services.AddSingleton<EmailDomainGuard>();
        services.AddSingleton<AuthorizationCodeIssuer>();
        services.AddSingleton<SignInStarters>();
        services.AddSingleton<Authorization>();
        services.AddSingleton<TokenIssuance>();
        services.AddSingleton<UserInfoLookup>();
        services.AddSingleton<ClientSetup>();
        services.AddSingleton<SsoDiscovery>();
        services.AddSingleton<RpLogout>();
        return services;
    }
}
