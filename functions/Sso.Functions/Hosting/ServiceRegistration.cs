using Azure.Core;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;
using Sso.Functions.Storage.Queues;
using Sso.Functions.Storage.Secrets;
using Sso.Functions.Tenants;

namespace Sso.Functions.Hosting;

public static class ServiceRegistration
{
    public static IServiceCollection AddSso(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(SsoOptions.From(configuration, environment));
        services.AddSingleton(AdminKeys.From(configuration));

        var storage = StorageOptions.From(configuration);
        services.AddSingleton(storage);
        TokenCredential? credential = storage.ConnectionString is null
            || configuration["Secrets:Backend"] == "keyvault" || configuration["Queues:Backend"] == "servicebus"
                ? AzureCredentials.From(configuration)
                : null;
        services.AddSingleton(_ => new TableStorage(storage, credential));
        services.AddSingleton(_ => new StorageWorkQueue(storage, credential));

        services.AddSingleton<ISecretStore>(_ => configuration["Secrets:Backend"] switch
        {
            "keyvault" => new KeyVaultSecretStore(
                new Uri(configuration["Secrets:KeyVaultUri"] ?? throw new InvalidOperationException("Set Secrets:KeyVaultUri.")),
                credential!),
            null or "" or "local" => new LocalSecretStore(configuration["Secrets:LocalPath"] is { Length: > 0 } path
                ? path
                : Path.Combine(".local", "secrets")),
            var other => throw new InvalidOperationException($"Secrets:Backend '{other}' is not 'local' or 'keyvault'."),
        });

        services.AddHttpClient();
        services.AddSingleton<IWorkQueue>(provider => configuration["Queues:Backend"] switch
        {
            "servicebus" => new ServiceBusWorkQueue(
                provider.GetRequiredService<IHttpClientFactory>().CreateClient("servicebus"),
                new Uri("https://" + (configuration["Queues:ServiceBusNamespace"]
                    ?? throw new InvalidOperationException("Set Queues:ServiceBusNamespace (e.g. mysso.servicebus.windows.net).")) + "/"),
                credential!),
            null or "" or "storage" => provider.GetRequiredService<StorageWorkQueue>(),
            var other => throw new InvalidOperationException($"Queues:Backend '{other}' is not 'storage' or 'servicebus'."),
        });
        services.AddSingleton(LocalDispatcherOptions.From(configuration) is var dispatcherOptions
            && configuration["Queues:Backend"] == "servicebus"
                ? dispatcherOptions with { Enabled = false }
                : dispatcherOptions);
        services.AddSingleton<LocalQueueDispatcher>();
        services.AddHostedService(provider => provider.GetRequiredService<LocalQueueDispatcher>());

        services.AddSingleton<TenantStore>();
        services.AddSingleton<ClientStore>();
        services.AddSingleton<TokenSigningKeys>();
        services.AddHostedService<TokenSigningKeyInitializer>();
        services.AddSignIn();
        Oidc.OidcServiceRegistration.AddOidc(services);
        return services;
    }
}
