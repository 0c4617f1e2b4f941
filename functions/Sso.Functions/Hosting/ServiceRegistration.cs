using Azure.Core;
using Azure.Messaging.ServiceBus;
using Sso.Functions.DirectorySync;
using Sso.Functions.Deprovisioning;
using Sso.Functions.Outbox;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;
using Sso.Functions.Storage.Queues;
using Sso.Functions.Storage.Secrets;
using Sso.Functions.Tenants;
using Sso.Functions.Webhooks;

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
        var storageRetry = AzureRetryOptions.ForStorage(configuration);
        services.AddSingleton(_ => new TableStorage(storage, credential, storageRetry));
        services.AddSingleton(_ => new StorageWorkQueue(storage, credential, storageRetry));
        services.AddSingleton(RequestDeadlineOptions.From(configuration));

        services.AddSingleton<ISecretStore>(_ => configuration["Secrets:Backend"] switch
        {
            "keyvault" => new KeyVaultSecretStore(
                new Uri(configuration["Secrets:KeyVaultUri"] ?? throw new InvalidOperationException("Set Secrets:KeyVaultUri.")),
                credential!, AzureRetryOptions.ForSecrets(configuration).Apply(new Azure.Security.KeyVault.Secrets.SecretClientOptions())),
            null or "" or "local" => new LocalSecretStore(configuration["Secrets:LocalPath"] is { Length: > 0 } path
                ? path
                : Path.Combine(".local", "secrets")),
            var other => throw new InvalidOperationException($"Secrets:Backend '{other}' is not 'local' or 'keyvault'."),
        });

        services.AddHttpClient();
        var serviceBus = configuration["Queues:Backend"] switch
        {
            "servicebus" => true,
            null or "" or "storage" => false,
            var other => throw new InvalidOperationException($"Queues:Backend '{other}' is not 'storage' or 'servicebus'."),
        };
        if (serviceBus)
        {
            var serviceBusOptions = ServiceBusQueueOptions.From(configuration);
            services.AddSingleton(serviceBusOptions);
            // One client (one AMQP connection) per process, with the app's managed identity;
            // tests put a recording ServiceBusClient in its place.
            services.AddSingleton(_ => new ServiceBusClient(serviceBusOptions.FullyQualifiedNamespace, credential!,
                serviceBusOptions.ToClientOptions()));
            services.AddSingleton<ServiceBusWorkQueue>();
            services.AddSingleton<IWorkQueue>(provider => provider.GetRequiredService<ServiceBusWorkQueue>());
            services.AddSingleton<IDeadLetterQueue, ServiceBusDeadLetterQueue>();
        }
        else
        {
            services.AddSingleton<IWorkQueue>(provider => provider.GetRequiredService<StorageWorkQueue>());
            services.AddSingleton<IDeadLetterQueue>(provider => new StorageDeadLetterQueue(provider.GetRequiredService<StorageWorkQueue>()));
        }
        services.AddSingleton(LocalDispatcherOptions.From(configuration) is var dispatcherOptions
            && configuration["Queues:Backend"] == "servicebus"
                ? dispatcherOptions with { Enabled = false }
                : dispatcherOptions);
        services.AddSingleton<LocalQueueDispatcher>();
        services.AddHostedService(provider => provider.GetRequiredService<LocalQueueDispatcher>());

        services.AddSingleton<TenantStore>();
        services.AddSingleton<TenantAdministration>();
        services.AddSingleton<DomainVerification>();
        services.AddSingleton<DnsTxtResolver>();
        services.AddSingleton<ClientStore>();
        services.AddSingleton<DirectoryPartitionWriter>();
        services.AddSingleton<DirectoryRecordStore>();
        services.AddSingleton<DirectoryUserStore>();
        services.AddSingleton<DirectoryGroupStore>();
        services.AddSingleton<DirectorySyncStore>();
        services.AddSingleton<DirectoryChanges>();
        services.AddSingleton<DirectoryGroupChanges>();
        services.AddSingleton<DirectoryProvisioning>();
        services.AddSingleton<DirectoryListing>();
        services.AddOutbox(configuration);
        services.AddSingleton(new OutboxTable(DirectoryPartitionWriter.TableName));
        services.AddSingleton(new OutboxTable(AuthorizationCodeStore.TableName));
        services.AddSingleton(new OutboxTable(Connections.ConnectionStore.TableName));
        services.AddSingleton(new OutboxTable(MassDeprovisionGuard.TableName));
        services.AddSingleton(new OutboxTable(ConnectionSignInStore.TableName));
        services.AddSingleton<TokenSigningKeys>();
        services.AddHostedService<TokenSigningKeyInitializer>();
        services.AddSignIn();
        Saml.SamlServiceRegistration.AddSaml(services);
        Audit.AuditServiceRegistration.AddAudit(services, configuration);

        services.AddSingleton(WebhookOptions.From(configuration));
        services.AddSingleton<WebhookStore>();
        services.AddSingleton<WebhookFanOut>();
        services.AddSingleton<MassDeprovisionHoldStore>();
        services.AddSingleton<MassDeprovisionGuard>();
        services.AddSingleton<DeprovisionWorker>();
        services.AddSingleton<DeprovisionHolds>();
        services.AddSingleton<DeadLetters>();
        services.AddSingleton<ITenantPurge, TenantPurgeQueue>();
        services.AddSingleton<IDeliveryHold>(provider => provider.GetRequiredService<MassDeprovisionGuard>());
        services.AddSingleton<WebhookRedelivery>();
        services.AddSingleton<WebhookSetup>();
        // Webhook URLs are the SaaS team's; a redirect could point a signed delivery elsewhere.
        services.AddHttpClient(WebhookEndpoints.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                ConnectTimeout = TimeSpan.FromSeconds(5),
            });
        Oidc.OidcServiceRegistration.AddOidc(services);
        services.AddSingleton<Connections.ConnectionSetup>();
        services.AddSingleton<Connections.ConnectionViews>();
        GoogleDirectory.GoogleServiceRegistration.AddGoogleDirectory(services, configuration);
        services.AddSingleton<Setup.SetupLinkStore>();
        services.AddSingleton<Setup.SetupLinkIssuer>();
        services.AddSingleton<Setup.SetupTestSignInFlow>();
        services.AddSingleton<Setup.SetupPortal>();
        services.AddSingleton<Setup.SetupSessions>();
        services.AddSingleton(new RouteErrorPage("/setup", Setup.SetupHtml.Unusable));
        services.AddSingleton<OperatorConsole.ConsoleSessionStore>();
        services.AddSingleton(OperatorConsole.ConsoleOidcOptions.From(configuration));
        services.AddSingleton<OperatorConsole.ConsoleOidcAuthentication>();
        services.AddSingleton(new RouteErrorPage("/console", OperatorConsole.ConsoleEndpoints.ErrorPage));
        services.AddSingleton<OperatorConsole.TenantProblems>();
        services.AddSingleton<OperatorConsole.ConsoleSessions>();
        services.AddSingleton<OperatorConsole.ConsoleKeySignIn>();
        services.AddSingleton<OperatorConsole.ConsoleOidcSignInCompletion>();
        services.AddSingleton<OperatorConsole.TenantOverview>();
        services.AddSingleton<OperatorConsole.ConsoleActivity>();
        services.AddSingleton<OperatorConsole.TenantSearch>();
        return services;
    }
}
