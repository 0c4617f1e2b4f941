using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.Saml;

namespace Sso.Functions.OAuth;

public static class SignInServiceRegistration
{
    /// <summary>Connections, the SAML SP face and the OAuth provider face.</summary>
    public static IServiceCollection AddSignIn(this IServiceCollection services)
    {
        services.AddSingleton<ConnectionStore>();
        OutboundConnectGuard.Register(services);
        services.AddSingleton(provider => new IdpMetadataFetcher(provider.GetRequiredService<IHttpClientFactory>(),
            provider.GetRequiredService<SsoOptions>(), provider.GetRequiredService<OutboundConnectGuard>()));
        services.AddHttpClient(IdpMetadataFetcher.HttpClientName, client => client.Timeout = IdpMetadataFetcher.Timeout)
            .ConfigurePrimaryHttpMessageHandler(provider =>
                provider.GetRequiredService<OutboundConnectGuard>().CreateHandler(IdpMetadataFetcher.Timeout));
        services.AddSingleton<SamlServiceProviderKeys>();
        services.AddSingleton<PendingSignInStore>();
        services.AddSingleton<AuthorizationCodeStore>();
        services.AddSingleton<AccessTokenStore>();
        services.AddSingleton<SignInSessionStore>();
        services.AddSingleton<SignInEvents>();
        services.AddSingleton<AssertionReplayStore>();
        services.AddSingleton<SignInDirectory>();
        services.AddSingleton<EmailDomainGuard>();
        services.AddSingleton<AuthorizationCodeIssuer>();
        return services;
    }
}
