using Sso.Functions.Connections;
using Sso.Functions.Saml;

namespace Sso.Functions.OAuth;

public static class SignInServiceRegistration
{
    /// <summary>Connections, the SAML SP face and the OAuth provider face.</summary>
    public static IServiceCollection AddSignIn(this IServiceCollection services)
    {
        services.AddSingleton<ConnectionStore>();
        services.AddSingleton<IdpMetadataFetcher>();
        services.AddHttpClient(IdpMetadataFetcher.HttpClientName, client => client.Timeout = IdpMetadataFetcher.Timeout)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, MaxResponseDrainSize = 64 * 1024 });
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
