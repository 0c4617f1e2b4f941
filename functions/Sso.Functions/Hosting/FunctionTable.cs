using Sso.Functions.DirectorySync;
using Sso.Functions.Deprovisioning;
using Sso.Functions.Outbox;
using Sso.Functions.OAuth;
using Sso.Functions.Scim;
using Sso.Functions.Tenants;
using Sso.Functions.Webhooks;

namespace Sso.Functions.Hosting;

/// <summary>
/// The single source of truth for every function in the app: routing is built from it and the
/// package step writes one function.json per entry from it.
/// </summary>
public static class FunctionTable
{
    public static IReadOnlyList<FunctionEndpoint> Http { get; } =
    [
        .. HealthEndpoints.Endpoints,
        .. TenantEndpoints.Endpoints,
        .. DomainEndpoints.Endpoints,
        .. ClientEndpoints.Endpoints,
        .. SigningKeyEndpoints.Endpoints,
        .. Connections.ConnectionEndpoints.Endpoints,
        .. Saml.SpKeyEndpoints.Endpoints,
        .. AuthorizeEndpoints.Endpoints,
        .. TokenEndpoints.Endpoints,
        .. DiscoveryEndpoints.Endpoints,
        .. Saml.SamlEndpoints.Endpoints,
        .. LogoutEndpoints.Endpoints,
        .. Saml.SamlLogoutEndpoints.Endpoints,
        .. SsoDiscoveryEndpoints.Endpoints,
        .. DirectoryEndpoints.Endpoints,
        .. ScimDiscoveryEndpoints.Endpoints,
        .. ScimUserEndpoints.Endpoints,
        .. ScimGroupEndpoints.Endpoints,
        .. EventEndpoints.Endpoints,
        .. WebhookEndpoints.Endpoints,
        .. DeadLetterEndpoints.Endpoints,
        .. DeprovisionHoldEndpoints.Endpoints,
        .. Oidc.OidcCallbackEndpoints.Endpoints,
        .. Audit.AuditEndpoints.Endpoints,
        .. Setup.SetupLinkEndpoints.Endpoints,
        .. Setup.SetupPortalEndpoints.Endpoints,
        .. GoogleDirectory.GoogleAuthorization.Endpoints,
        .. GoogleDirectory.GoogleSync.Endpoints,
        .. OperatorConsole.ConsoleEndpoints.Endpoints,
    ];

    public static IReadOnlyList<QueueFunction> Queues { get; } =
    [
        EventDispatchWorker.Function,
        DeprovisionWorker.Function,
        WebhookDeliveryWorker.Function,
        GoogleDirectory.GoogleSync.Function,
    ];

    public static IReadOnlyList<TimerFunction> Timers { get; } =
    [
        DomainClaimSweep.Function,
        DomainReverification.Function,
        TokenExpiryNotice.Function,
        OutboxSweep.Function,
        Audit.AuditRetentionSweep.Function,
        Connections.CertificateExpiryCheck.Function,
        .. SignInMaintenance.Timers,
        GoogleDirectory.GoogleSync.Timer,
    ];

    public static void MapFunctions(this WebApplication app)
    {
        foreach (var endpoint in Http)
        {
            var handler = endpoint.Handler;
            app.MapMethods(endpoint.Route, endpoint.Methods, async context =>
                {
                    var result = await handler(context);
                    await result.ExecuteAsync(context);
                })
                .WithName(endpoint.FunctionName)
                .WithMetadata(endpoint);
        }

        foreach (var queue in Queues)
            app.MapPost("/" + queue.FunctionName, context => FunctionInvocation.RunQueueFunctionAsync(queue, context))
                .WithName(queue.FunctionName);

        foreach (var timer in Timers)
            app.MapPost("/" + timer.FunctionName, context => FunctionInvocation.RunTimerFunctionAsync(timer, context))
                .WithName(timer.FunctionName);
    }
}
