using Sso.Functions.OAuth;

namespace Sso.Functions.Saml;

public static class SamlServiceRegistration
{
    /// <summary>The SP face toward customers' SAML IdPs: SP keys, the replay cache, the sign-in starter and completion, Single Logout and connection setup.</summary>
    public static IServiceCollection AddSaml(this IServiceCollection services)
    {
        services.AddSingleton<SamlServiceProviderKeys>();
        services.AddSingleton<AssertionReplayStore>();
        services.AddSingleton<ISignInRowSweep>(provider => provider.GetRequiredService<AssertionReplayStore>());
        services.AddSingleton<ISignInStarter, SamlSignInStarter>();
        services.AddSingleton<SamlSignInCompletion>();
        services.AddSingleton<ISingleLogout, SamlSingleLogout>();
        services.AddSingleton<SamlIdpLogout>();
        services.AddSingleton<Connections.IConnectionTypeSetup, SamlConnectionSetup>();
        return services;
    }
}
