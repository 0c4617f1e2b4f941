using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;

namespace Sso.Functions.GoogleDirectory;

public static class GoogleServiceRegistration
{
    public static void AddGoogleDirectory(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(provider => GoogleOptions.From(configuration, provider.GetRequiredService<SsoOptions>()));
        GoogleApi.Register(services);
        services.AddSingleton<GoogleApi>();
        services.AddSingleton<GoogleAuthorization>();
        services.AddSingleton<IDirectoryAuthorization>(provider => provider.GetRequiredService<GoogleAuthorization>());
        services.AddSingleton<GoogleSync>();
    }
}
