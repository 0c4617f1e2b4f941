namespace Sso.Functions.Outbox;

public static class OutboxServiceRegistration
{
    /// <summary>The outbox, feed and event queue; each feature adds an <see cref="OutboxTable"/> for the table its outbox rows live in.</summary>
    public static IServiceCollection AddOutbox(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(OutboxOptions.From(configuration));
        services.AddSingleton<EventFeedStore>();
        services.AddSingleton<EventFeed>();
        services.AddSingleton<EventDispatcher>();
        services.AddSingleton<OutboxPublisher>();
        services.AddHostedService(provider => provider.GetRequiredService<OutboxPublisher>());
        services.AddSingleton<OutboxSweep>();
        return services;
    }
}
